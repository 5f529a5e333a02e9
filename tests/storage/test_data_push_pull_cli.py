"""``visionkit data push`` and ``visionkit data pull`` against a real Blob service (Azurite)."""

from __future__ import annotations

from pathlib import Path

from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from tests.azurite import Azurite
from tests.storage.files import tree
from visionkit.cli import main
from visionkit.data.manifest import MANIFEST_NAME


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["data", *args])


def test_push_then_pull_prints_what_was_sent_skipped_and_verified(
    blob_env: dict[str, str], container: str, dataset_folder: Path, tmp_path: Path
) -> None:
    url = f"azblob://{container}/plates/v1"
    pushed = _run("push", str(dataset_folder), url)
    assert pushed.exit_code == 0, pushed.output
    assert "    sent  plate_01.png" in pushed.output
    assert pushed.output.splitlines()[-3].endswith(f"sent  {MANIFEST_NAME}")
    assert f"-> {url}: 13 sent, 0 skipped (already there), 13 verified" in pushed.output

    again = _run("push", str(dataset_folder), url)
    assert again.exit_code == 0, again.output
    assert "skipped  plate_01.png" in again.output
    assert "0 sent, 13 skipped" in again.output

    out = tmp_path / "pulled"
    pulled = _run("pull", url, str(out))
    assert pulled.exit_code == 0, pulled.output
    assert "verified  run2/plate_10.png" in pulled.output
    assert "12 sent, 0 skipped (already there), 12 verified" in pulled.output
    version = next(line for line in pushed.output.splitlines() if line.startswith("version: "))
    assert version in pulled.output
    assert tree(out) == tree(dataset_folder)


def test_pull_names_a_corrupt_blob_and_exits_1(
    azurite: Azurite, blob_env: dict[str, str], container: str, dataset_folder: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    url = f"azblob://{container}/plates/v1"
    assert _run("push", str(dataset_folder), url).exit_code == 0
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    bad = service.get_blob_client(container, "plates/v1/run2/plate_10.png")
    bad.upload_blob(b"garbage", overwrite=True, metadata=bad.get_blob_properties().metadata)
    result = _run("pull", url, str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "1 stored file(s) do not match their sha256: run2/plate_10.png" in result.output
    assert not (tmp_path / "out" / "run2" / "plate_10.png").exists()


def test_push_to_a_missing_container_fails_naming_it_until_asked_to_create_it(
    blob_env: dict[str, str], dataset_folder: Path
) -> None:
    result = _run("push", str(dataset_folder), "azblob://not-made-yet/v1")
    assert result.exit_code == 1
    assert "container 'not-made-yet' does not exist" in result.output
    made = _run("push", "--create-container", "--block-size", "4096",
                str(dataset_folder), "azblob://not-made-yet/v1")  # fmt: skip
    assert made.exit_code == 0, made.output


def test_push_without_credentials_says_what_to_set(
    dataset_folder: Path, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_URL",
                 "AZURE_STORAGE_ACCOUNT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    result = _run("push", str(dataset_folder), "azblob://plates/v1")
    assert result.exit_code == 1
    assert "no Blob Storage account configured" in result.output
