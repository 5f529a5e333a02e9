"""The local-folder storage, storage URLs and settings, without any service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.files import tree
from visionkit.data.manifest import MANIFEST_NAME
from visionkit.exceptions import IntegrityError, StorageError
from visionkit.storage import (
    LocalStorage,
    open_storage,
    parse_azblob_url,
    pull_folder,
    push_folder,
    storage_from_settings,
)
from visionkit.storage.base import check_key, join_key


def test_a_data_set_round_trips_through_a_local_folder(
    dataset_folder: Path, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "store")
    first = push_folder(dataset_folder, storage)
    assert first.sent[-1] == MANIFEST_NAME
    assert push_folder(dataset_folder, storage).sent == []
    out = tmp_path / "out"
    pulled = pull_folder(storage, out)
    assert pulled.version == first.version
    assert tree(out) == tree(dataset_folder)
    assert next(o.key for o in storage.list("run2/")) == "run2/plate_10.png"


def test_a_corrupt_local_copy_is_detected(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    (tmp_path / "a.txt").write_text("right")
    good = storage.put_file("a.txt", tmp_path / "a.txt")
    (tmp_path / "store" / "a.txt").write_text("wrong")
    with pytest.raises(IntegrityError, match=r"a\.txt.*corrupt") as caught:
        storage.get_file("a.txt", tmp_path / "copy.txt", sha256=good.sha256)
    assert caught.value.key == "a.txt"
    assert not (tmp_path / "copy.txt").exists()
    assert not (tmp_path / ".copy.txt.part").exists()


def test_local_storage_reads_writes_and_deletes(tmp_path: Path) -> None:
    storage = open_storage(f"file://{tmp_path}/store")
    assert isinstance(storage, LocalStorage)
    assert storage.list() == []
    written = storage.write_bytes("x/y.txt", b"hello")
    assert storage.read_bytes("x/y.txt") == b"hello"
    assert storage.sha256("x/y.txt") == written.sha256
    assert storage.sha256("nope.txt") is None
    assert storage.exists("x/y.txt")
    storage.delete("x/y.txt")
    storage.delete("x/y.txt")
    assert not storage.exists("x/y.txt")
    with pytest.raises(StorageError, match="no file 'x/y.txt'"):
        storage.read_bytes("x/y.txt")
    with pytest.raises(StorageError, match="no file"):
        storage.get_file("x/y.txt", tmp_path / "out.txt")


def test_pulling_from_an_empty_storage_says_so(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nothing is stored there"):
        pull_folder(LocalStorage(tmp_path / "empty"), tmp_path / "out")


def test_pushing_a_missing_or_empty_folder_fails(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    with pytest.raises(StorageError, match="no such folder"):
        push_folder(tmp_path / "missing", storage)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StorageError, match="holds no files"):
        push_folder(tmp_path / "empty", storage)


def test_a_broken_manifest_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text("{}")
    with pytest.raises(StorageError, match="not a visionkit data manifest"):
        push_folder(folder, LocalStorage(tmp_path / "store"))
    store = tmp_path / "store2"
    store.mkdir()
    (store / MANIFEST_NAME).write_text("[]")
    with pytest.raises(StorageError, match="not a visionkit data manifest"):
        pull_folder(LocalStorage(store), tmp_path / "out")


@pytest.mark.parametrize("key", ["", "../etc/passwd", "/abs", "a//b", "a\\b", "a/./b"])
def test_keys_that_leave_the_storage_are_refused(key: str) -> None:
    with pytest.raises(StorageError, match="is not a storage key"):
        check_key(key)


def test_join_key() -> None:
    assert join_key("", "a") == "a"
    assert join_key("p/", "a") == "p/a"
    assert join_key("p", "") == "p"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("azblob://plates/hades-1/run", ("plates", "hades-1/run")),
        ("azblob://plates", ("plates", "")),
    ],
)
def test_azblob_urls_parse(url: str, expected: tuple[str, str]) -> None:
    assert parse_azblob_url(url) == expected


@pytest.mark.parametrize(
    "url", ["azblob://Plates/x", "azblob://ab/x", "azblob://a--b/x", "s3://b/x"]
)
def test_bad_azblob_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageError, match="container name|not an azblob"):
        parse_azblob_url(url)


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(StorageError, match="unknown storage scheme 's3'"):
        open_storage("s3://bucket/x")


def test_settings_choose_the_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    default = storage_from_settings({})
    assert isinstance(default, LocalStorage)
    assert default.root == Path("storage")
    chosen = storage_from_settings({"VISIONKIT_STORAGE": str(tmp_path / "elsewhere")})
    assert isinstance(chosen, LocalStorage)
    assert chosen.root == tmp_path / "elsewhere"


def test_azblob_without_an_account_says_what_to_set() -> None:
    with pytest.raises(StorageError, match="AZURE_STORAGE_CONNECTION_STRING.*SAS_TOKEN"):
        open_storage("azblob://plates/x", environ={})
    with pytest.raises(StorageError, match="not a valid connection string"):
        open_storage("azblob://plates/x", environ={"AZURE_STORAGE_CONNECTION_STRING": "garbage"})


def test_an_account_name_alone_uses_default_azure_credential() -> None:
    storage = open_storage("azblob://plates/x", environ={"AZURE_STORAGE_ACCOUNT": "labdata"})
    assert storage.url == "azblob://plates/x"
    assert "https://labdata.blob.core.windows.net" in repr(storage)
