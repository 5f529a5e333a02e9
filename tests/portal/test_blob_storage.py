"""The portal's files in Azure Blob Storage (django-storages), chosen by settings alone.

Against a real Blob service (Azurite, started by :mod:`tests.azurite`): a model
version registered, a data set stored and read back, and an uploaded plate
predicted all land in the container, and nothing in the local media folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

from portal.accounts.models import User
from portal.env import AZURE_STORAGE_BACKEND, env_azure_storage
from tests.azurite import Azurite, azurite_fixture  # noqa: F401  (the fixture "azurite")
from tests.portal.conftest import DEFAULT_MODEL

SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


@pytest.fixture
def blob_container(azurite: Azurite, settings: Any) -> Iterator[str]:
    """``STORAGES["default"]`` on a fresh Azurite container for this test only; its name."""
    container = azurite.new_container("portal")
    options = env_azure_storage(environ={
        "VISIONKIT_AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "VISIONKIT_AZURE_STORAGE_CONTAINER": container,
    })  # fmt: skip
    assert options is not None
    settings.STORAGES = {
        **settings.STORAGES, "default": {"BACKEND": AZURE_STORAGE_BACKEND, "OPTIONS": options}
    }  # fmt: skip
    storages._storages = {}  # the next storages["default"] is the Blob one
    yield container
    storages._storages = {}  # and after the test, the local one again


def _blobs(azurite: Azurite, container: str) -> dict[str, bytes]:
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        client = service.get_container_client(container)
        return {b.name: client.download_blob(b.name).readall() for b in client.list_blobs()}


@pytest.mark.django_db
def test_a_registered_model_version_is_stored_in_blob(
    azurite: Azurite, blob_container: str, media: Path
) -> None:
    from portal.registry import services

    assert type(storages["default"]).__name__ == "AzureStorage"
    version = services.register_model_folder(
        folder=DEFAULT_MODEL, user=None, name="root-unet", version="7"
    )
    blobs = _blobs(azurite, blob_container)
    for name in ("model.safetensors", "config.json", "MODEL_CARD.md"):
        assert blobs[f"models/root-unet/7/{name}"] == (DEFAULT_MODEL / name).read_bytes()
    weights = blobs["models/root-unet/7/model.safetensors"]
    assert version.sha256 == hashlib.sha256(weights).hexdigest()
    assert not media.exists() or not any(media.rglob("*"))  # nothing went to local files


@pytest.mark.django_db
def test_a_data_set_is_stored_in_blob_and_read_back_verified(
    azurite: Azurite, blob_container: str, operator: User, plates_folder: Path, tmp_path: Path
) -> None:
    from portal.datasets.services import create_dataset_from_folder, download_dataset

    dataset, created = create_dataset_from_folder(folder=plates_folder, name="blob", user=operator)
    assert created
    blobs = _blobs(azurite, blob_container)
    assert f"datasets/{dataset.version}/manifest.json" in blobs
    for entry in dataset.manifest["files"]:
        assert (
            blobs[f"datasets/{dataset.version}/{entry['path']}"]
            == (plates_folder / entry["path"]).read_bytes()
        )
    copy = download_dataset(dataset=dataset, target=tmp_path / "copy")
    assert sorted(p.name for p in copy.rglob("*") if p.is_file()) == sorted(
        Path(e["path"]).name for e in dataset.manifest["files"]
    )


@pytest.mark.django_db
def test_an_uploaded_plate_and_its_masks_are_stored_in_blob(
    azurite: Azurite, blob_container: str, operator: User, production_model: Any,
) -> None:  # fmt: skip

    from PIL import Image

    from portal.predictions.services import create_prediction
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(7, SynthConfig().scaled(0.25))
    buffer = io.BytesIO()
    Image.fromarray(plate.image).save(buffer, format="PNG")
    name, data = "plate_007.png", buffer.getvalue()
    prediction = create_prediction(image=data, image_name=name, user=operator)
    blobs = _blobs(azurite, blob_container)
    assert blobs[prediction.image] == data
    assert f"{prediction.prefix}/overlay.png" in blobs
    assert any(key.startswith(f"{prediction.prefix}/masks/") for key in blobs)
    with storages["default"].open(prediction.image, "rb") as handle:
        assert handle.read() == data


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in list(os.environ):
        if name.startswith("VISIONKIT_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("VISIONKIT_SECRET_KEY", "k" * 60)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_settings_alone_switch_the_default_storage_to_blob(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = _settings(monkeypatch)["STORAGES"]["default"]
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    blob = _settings(
        monkeypatch,
        VISIONKIT_AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true",
        VISIONKIT_AZURE_STORAGE_CONTAINER="lab-files",
        VISIONKIT_AZURE_STORAGE_PREFIX="/portal/",
    )["STORAGES"]
    assert blob["default"]["BACKEND"] == AZURE_STORAGE_BACKEND
    assert blob["default"]["OPTIONS"]["azure_container"] == "lab-files"
    assert blob["default"]["OPTIONS"]["location"] == "portal"
    assert blob["staticfiles"]["BACKEND"].startswith("whitenoise")


def test_an_account_name_takes_a_key_a_sas_or_a_managed_identity() -> None:
    base = {"VISIONKIT_AZURE_STORAGE_ACCOUNT_NAME": "labfiles"}
    keyed = env_azure_storage(environ=base | {"VISIONKIT_AZURE_STORAGE_ACCOUNT_KEY": "a2V5"})
    assert keyed is not None
    assert keyed["account_key"] == "a2V5"
    sas = env_azure_storage(environ=base | {"VISIONKIT_AZURE_STORAGE_SAS_TOKEN": "?sv=1&sig=x"})
    assert sas is not None
    assert sas["sas_token"] == "sv=1&sig=x"
    identity = env_azure_storage(environ=base)
    assert identity is not None
    assert type(identity["token_credential"]).__name__ == "DefaultAzureCredential"
    assert env_azure_storage(environ={}) is None


def test_contradictory_or_bad_azure_settings_stop_start_up() -> None:
    with pytest.raises(ImproperlyConfigured, match="both set"):
        env_azure_storage(environ={
            "VISIONKIT_AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
            "VISIONKIT_AZURE_STORAGE_ACCOUNT_NAME": "labfiles",
        })  # fmt: skip
    with pytest.raises(ImproperlyConfigured, match="VISIONKIT_AZURE_STORAGE_CONTAINER='Bad_Name'"):
        env_azure_storage(environ={
            "VISIONKIT_AZURE_STORAGE_ACCOUNT_NAME": "labfiles",
            "VISIONKIT_AZURE_STORAGE_CONTAINER": "Bad_Name",
        })  # fmt: skip


def _blob_storage(settings: Any, connection_string: str, container: str) -> None:
    options = env_azure_storage(environ={
        "VISIONKIT_AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "VISIONKIT_AZURE_STORAGE_CONTAINER": container,
    })  # fmt: skip
    assert options is not None
    settings.STORAGES = {
        **settings.STORAGES, "default": {"BACKEND": AZURE_STORAGE_BACKEND, "OPTIONS": options}
    }  # fmt: skip
    storages._storages = {}


def test_check_storage_creates_a_missing_container_only_when_asked(
    azurite: Azurite, settings: Any
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    container = f"fresh-{os.urandom(6).hex()}"
    _blob_storage(settings, azurite.connection_string, container)
    try:
        with pytest.raises(CommandError, match=f"{container}.* does not exist"):
            call_command("check_storage")
        out = io.StringIO()
        call_command("check_storage", "--create", stdout=out)
        assert "created, write, read and delete ok" in out.getvalue()
        assert _blobs(azurite, container) == {}, "the probe is removed again"
        out = io.StringIO()
        call_command("check_storage", stdout=out)  # now it is there
        assert "created" not in out.getvalue()
        assert "ok" in out.getvalue()
    finally:
        storages._storages = {}


def test_check_storage_names_the_storage_and_hides_the_key_when_refused(
    azurite: Azurite, settings: Any
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    container = azurite.new_container("refused")
    wrong_key = "d3Jvbmcta2V5LW5vdC10aGUtYWNjb3VudHMtb3du" * 2
    bad = azurite.connection_string.replace(
        azurite.connection_string.split("AccountKey=")[1].split(";")[0], wrong_key
    )
    _blob_storage(settings, bad, container)
    try:
        with pytest.raises(CommandError) as caught:
            call_command("check_storage")
        assert container in str(caught.value)
        assert wrong_key not in str(caught.value)
    finally:
        storages._storages = {}


def test_check_storage_on_local_files(settings: Any, tmp_path: Path) -> None:
    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path / "media"
    storages._storages = {}
    try:
        out = io.StringIO()
        call_command("check_storage", stdout=out)
        assert "FileSystemStorage" in out.getvalue()
        assert "ok" in out.getvalue()
        assert not any(p.is_file() for p in (tmp_path / "media").rglob("*"))
    finally:
        storages._storages = {}
