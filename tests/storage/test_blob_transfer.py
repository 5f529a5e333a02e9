"""Data set versions and model folders to and from a real Blob service (Azurite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.azurite import ACCOUNT, Azurite
from tests.storage.files import tree
from visionkit.data.manifest import MANIFEST_NAME
from visionkit.exceptions import IntegrityError, StorageError
from visionkit.storage import open_storage, pull_folder, push_folder
from visionkit.storage.blob import METADATA_SHA256, BlobStorage

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "visionkit" / "models" / "default"


def _blob_client(azurite: Azurite, container: str, name: str):  # type: ignore[no-untyped-def]
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    return service.get_blob_client(container, name)


def test_a_data_set_version_round_trips_and_verifies(
    blob: BlobStorage, dataset_folder: Path, tmp_path: Path
) -> None:
    pushed = push_folder(dataset_folder, blob)
    manifest = json.loads((dataset_folder / MANIFEST_NAME).read_text())
    files = [entry["path"] for entry in manifest["files"]]
    assert pushed.sent == [*files, MANIFEST_NAME]  # the manifest last
    assert pushed.skipped == []
    assert pushed.version == manifest["version"]
    assert pushed.bytes_sent == sum(p.stat().st_size for p in dataset_folder.rglob("*.*"))

    out = tmp_path / "pulled"
    pulled = pull_folder(blob, out)
    assert pulled.version == manifest["version"]
    assert sorted(pulled.verified) == sorted(files)
    assert tree(out) == tree(dataset_folder)  # no .part file left behind either


def test_pushing_and_pulling_again_sends_nothing(
    blob: BlobStorage, dataset_folder: Path, tmp_path: Path
) -> None:
    push_folder(dataset_folder, blob)
    again = push_folder(dataset_folder, blob)
    assert again.sent == []
    assert again.bytes_sent == 0
    assert len(again.skipped) == len(again.verified) == len(tree(dataset_folder))

    out = tmp_path / "pulled"
    pull_folder(blob, out)
    second = pull_folder(blob, out)
    assert second.sent == []
    assert second.bytes_sent == 0
    assert len(second.skipped) == len(tree(dataset_folder)) - 1  # all but the manifest


def test_listing_names_every_blob_with_its_sha256(blob: BlobStorage, dataset_folder: Path) -> None:
    push_folder(dataset_folder, blob)
    manifest = json.loads((dataset_folder / MANIFEST_NAME).read_text())
    listed = blob.list()
    assert [o.key for o in listed] == sorted(
        [*(e["path"] for e in manifest["files"]), MANIFEST_NAME]
    )
    recorded = {o.key: o.sha256 for o in listed}
    for entry in manifest["files"]:
        assert recorded[entry["path"]] == entry["sha256"]
    assert [o.key for o in blob.list("run2/")] == ["run2/plate_10.png", *sorted(
        e["path"] for e in manifest["files"] if e["path"].startswith("run2/") and
        e["path"] != "run2/plate_10.png")]  # fmt: skip
    assert blob.exists("plate_01.png")
    assert not blob.exists("plate_99.png")
    assert blob.stat("plate_99.png") is None
    blob.delete("plate_01.png")
    blob.delete("plate_01.png")  # gone already: no error
    assert not blob.exists("plate_01.png")


def test_a_corrupted_blob_is_named_and_the_good_files_are_kept(
    azurite: Azurite, blob: BlobStorage, container: str, dataset_folder: Path, tmp_path: Path
) -> None:
    push_folder(dataset_folder, blob)
    # Someone overwrites one plate in place, keeping its recorded sha256.
    bad = _blob_client(azurite, container, "sets/v1/plate_02.png")
    recorded = bad.get_blob_properties().metadata
    bad.upload_blob(b"not the plate any more", overwrite=True, metadata=recorded)
    out = tmp_path / "pulled"
    (out).mkdir()
    (out / "plate_01.png").write_bytes((dataset_folder / "plate_01.png").read_bytes())

    with pytest.raises(IntegrityError, match=r"plate_02\.png") as caught:
        pull_folder(blob, out)
    assert caught.value.key == "plate_02.png"
    assert not (out / "plate_02.png").exists()  # the corrupt copy was not written
    assert not (out / MANIFEST_NAME).exists()  # the version is incomplete: no manifest
    assert (out / "plate_01.png").read_bytes() == (dataset_folder / "plate_01.png").read_bytes()
    expected = {k: v for k, v in tree(dataset_folder).items()
                if k not in ("plate_02.png", MANIFEST_NAME)}  # fmt: skip
    assert tree(out) == expected  # every good file is there, and nothing else (no .part)


def test_a_local_file_changed_since_its_manifest_is_not_pushed(
    blob: BlobStorage, dataset_folder: Path
) -> None:
    (dataset_folder / "plate_01.png").write_bytes(b"edited")
    with pytest.raises(IntegrityError, match=r"plate_01\.png: changed.*visionkit data manifest"):
        push_folder(dataset_folder, blob)
    assert blob.list() == []


def test_a_model_folder_round_trips_by_recorded_sha256(
    blob_env: dict[str, str], container: str, tmp_path: Path
) -> None:
    storage = open_storage(f"azblob://{container}/models/root-unet/2")
    pushed = push_folder(DEFAULT_MODEL, storage)
    assert sorted(pushed.sent) == sorted(p.name for p in DEFAULT_MODEL.iterdir())
    assert all(o.sha256 for o in storage.list())
    out = tmp_path / "model"
    pull_folder(storage, out)
    assert tree(out) == tree(DEFAULT_MODEL)


def test_a_partial_download_resumes_and_a_stale_one_is_fetched_again(
    blob: BlobStorage, dataset_folder: Path, tmp_path: Path
) -> None:
    push_folder(dataset_folder, blob)
    content = (dataset_folder / "run2" / "plate_10.png").read_bytes()
    out = tmp_path / "pulled"
    part = out / "run2" / ".plate_10.png.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(content[: len(content) // 2])  # a pull killed half way
    got = blob.get_file("run2/plate_10.png", out / "run2" / "plate_10.png")
    assert (out / "run2" / "plate_10.png").read_bytes() == content
    assert got.sha256 == blob.sha256("run2/plate_10.png")
    assert not part.exists()

    part.write_bytes(b"x" * 10)  # a part of some other content
    blob.get_file("run2/plate_10.png", out / "again.png")
    assert (out / "again.png").read_bytes() == content


def test_a_missing_container_is_named(blob_env: dict[str, str], tmp_path: Path) -> None:
    storage = open_storage("azblob://no-such-container/x")
    with pytest.raises(StorageError, match="container 'no-such-container' does not exist"):
        storage.list()
    (tmp_path / "a.txt").write_text("a")
    with pytest.raises(StorageError, match="create it"):
        push_folder(tmp_path, storage)


def test_create_container_makes_a_missing_one(blob_env: dict[str, str], tmp_path: Path) -> None:
    storage = open_storage("azblob://made-by-push/x", create_container=True)
    (tmp_path / "a.txt").write_text("a")
    assert push_folder(tmp_path, storage).sent == ["a.txt"]
    open_storage("azblob://made-by-push/x", create_container=True)  # there already: fine


def test_bad_credentials_are_reported_without_the_secret(
    azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong_key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite.account_url)
    monkeypatch.setenv("AZURE_STORAGE_KEY", wrong_key)
    storage = open_storage(f"azblob://{container}/x")
    with pytest.raises(StorageError, match="refused the credentials") as caught:
        storage.list()
    assert wrong_key not in str(caught.value)
    assert azurite.account_url in str(caught.value)


def test_a_sas_token_from_the_environment_is_used(
    azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import datetime as dt

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    from tests.azurite import ACCOUNT_KEY

    sas = generate_container_sas(
        ACCOUNT, container, account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, write=True, list=True, delete=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )  # fmt: skip
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite.account_url)
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", "?" + sas)
    (tmp_path / "a.txt").write_text("a")
    storage = open_storage(f"azblob://{container}/sas")
    assert push_folder(tmp_path, storage).sent == ["a.txt"]
    assert storage.read_bytes("a.txt") == b"a"
    assert storage.stat("a.txt").sha256 == storage.sha256("a.txt")  # type: ignore[union-attr]


def test_the_recorded_sha256_is_blob_metadata(
    azurite: Azurite, blob: BlobStorage, container: str
) -> None:
    result = blob.write_bytes("notes/readme.txt", b"hello")
    props = _blob_client(azurite, container, "sets/v1/notes/readme.txt").get_blob_properties()
    assert props.metadata[METADATA_SHA256] == result.sha256
    assert props.content_settings.content_type == "text/plain"
