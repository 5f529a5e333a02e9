"""Fixtures of the storage tests: a real Azurite, a data set version, and storages on both."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.azurite import Azurite, azurite_fixture  # noqa: F401  (the fixture "azurite")
from tests.helpers.folders import write_plate
from visionkit.data.manifest import MANIFEST_NAME, build_manifest
from visionkit.storage.blob import BlobStorage
from visionkit.storage.open import open_storage


@pytest.fixture
def blob_env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a user sets for Blob Storage: Azurite's connection string, nothing else."""
    for name in (
        "AZURE_STORAGE_ACCOUNT_URL", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_STORAGE_KEY",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}


@pytest.fixture
def container(azurite: Azurite) -> str:
    """A fresh, empty container of the test's own."""
    return azurite.new_container()


@pytest.fixture
def blob(blob_env: dict[str, str], container: str) -> BlobStorage:
    """A Blob storage at ``azblob://<container>/sets/v1`` with small (64 KiB) blocks."""
    storage = open_storage(f"azblob://{container}/sets/v1", block_size=64 << 10)
    assert isinstance(storage, BlobStorage)
    return storage


@pytest.fixture
def dataset_folder(tmp_path: Path) -> Path:
    """A small data set version: three plates with masks, in two folders, and its manifest."""
    folder = tmp_path / "dataset"
    (folder / "run2").mkdir(parents=True)
    write_plate(folder, "plate_01", seed=1)
    write_plate(folder, "plate_02", seed=2)
    write_plate(folder / "run2", "plate_10", seed=3, shape=(400, 500))
    build_manifest(folder).write(folder / MANIFEST_NAME)
    return folder
