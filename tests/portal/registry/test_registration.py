"""Registering model versions through the API: archives checked before loading, jobs, MLflow.

An uploaded archive is never unpickled: a pickle is refused by its name or
its first bytes before anything is loaded, and weights that do not match the
config are refused by :func:`visionkit.load_model`. Every refusal leaves no
row and no file behind.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.jobs.models import Job
from portal.registry import mlflow_sync, services
from portal.registry.models import ModelVersion
from tests.portal.conftest import DEFAULT_MODEL, pass_gate

pytestmark = pytest.mark.django_db

_FILES = ("model.safetensors", "config.json", "MODEL_CARD.md")


def _archive(files: dict[str, bytes], *, folder: str = "") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    buffer.seek(0)
    buffer.name = "model.zip"
    return buffer


def _model_files() -> dict[str, bytes]:
    return {name: (DEFAULT_MODEL / name).read_bytes() for name in _FILES}


def _post(user: User, archive: io.BytesIO, **fields: str) -> Any:
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/models/", {"file": archive, **fields}, format="multipart")


def test_an_operator_registers_a_zipped_model_folder_as_a_candidate(
    operator: User, stored_files: Callable[..., list[str]]
) -> None:
    archive = _archive(_model_files(), folder="root-unet/")
    response = _post(operator, archive, name="root-unet", version="7")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["version"], body["stage"]) == ("root-unet", "7", "candidate")
    assert stored_files("models/") == [f"models/root-unet/7/{name}" for name in sorted(_FILES)]
    detail = APIClient()
    detail.force_authenticate(operator)
    assert detail.get(f"/api/models/{body['id']}/").json()["sha256"] == body["sha256"]


def test_an_archives_onnx_export_is_left_out_never_run(
    operator: User, stored_files: Callable[..., list[str]]
) -> None:
    # A zipped `visionkit export`ed folder registers, without its graph: only
    # a local folder's exports are kept (the workers make their own otherwise).
    export = (DEFAULT_MODEL / "model-int8.onnx").read_bytes()
    archive = _archive({**_model_files(), "model-int8.onnx": export}, folder="root-unet/")
    response = _post(operator, archive, name="root-unet", version="9")
    assert response.status_code == 201, response.content
    assert stored_files("models/") == [f"models/root-unet/9/{name}" for name in sorted(_FILES)]


def _refused(user: User, archive: io.BytesIO, status: int = 400) -> dict[str, Any]:
    """Post ``archive``; it must be refused with ``status``, leaving no row and no file."""
    response = _post(user, archive, version="8")
    assert response.status_code == status, response.content
    assert not ModelVersion.objects.exists()
    media = Path(storages["default"].location)
    assert not [p for p in media.rglob("*") if p.is_file()] if media.exists() else True
    return dict(response.json())


class _Tripwire:
    """Unpickling this object is the attack; the test fails if it ever happens."""

    unpickled: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (_mark_unpickled, ())


def _mark_unpickled() -> None:
    _Tripwire.unpickled = True


def test_a_pickle_in_the_archive_is_refused_and_never_loaded(operator: User) -> None:
    payload = pickle.dumps(_Tripwire())
    for files in (
        {**_model_files(), "weights.pt": payload},  # a pickle beside the model
        {**_model_files(), "model.safetensors": payload},  # a pickle in the weights' place
        {**_model_files(), "extra.dat": payload},  # a pickle under a harmless name
    ):
        body = _refused(operator, _archive(files))
        assert "pickle" in body["detail"], body
        assert body["problems"], body
    assert not _Tripwire.unpickled


def test_missing_or_mismatched_weights_are_refused(operator: User) -> None:
    from safetensors.torch import load, save

    files = _model_files()
    missing = {k: v for k, v in files.items() if k != "model.safetensors"}
    body = _refused(operator, _archive(missing))
    assert any("model.safetensors: missing" in p for p in body["problems"])

    tensors = load(files["model.safetensors"])
    dropped = dict(tensors)
    dropped.pop(sorted(dropped)[0])
    body = _refused(operator, _archive({**files, "model.safetensors": save(dropped)}))
    assert "not a model folder visionkit can load" in body["detail"]

    reshaped = dict(tensors)
    key = next(k for k, v in sorted(reshaped.items()) if v.ndim == 4 and v.shape[1] > 1)
    reshaped[key] = reshaped[key][:, :1].contiguous()
    body = _refused(operator, _archive({**files, "model.safetensors": save(reshaped)}))
    assert "not a model folder visionkit can load" in body["detail"]

    config = json.loads(files["config.json"])
    config["architecture"] = "no-such-architecture"
    body = _refused(operator, _archive({**files, "config.json": json.dumps(config).encode()}))
    assert "not a model folder" in body["detail"]


def test_stray_files_and_hostile_zips_are_refused(operator: User) -> None:
    body = _refused(operator, _archive({**_model_files(), "run.sh": b"rm -rf /"}))
    assert any("run.sh: not part of a model folder" in p for p in body["problems"])

    body = _refused(operator, _archive({**_model_files(), "../escape.md": b"x"}))
    assert any("escape.md" in p for p in body["problems"]), body

    not_a_zip = io.BytesIO(b"not a zip at all")
    not_a_zip.name = "model.zip"
    body = _refused(operator, not_a_zip)
    assert "not a readable zip" in body["detail"]


def test_an_archive_over_the_limit_gets_413_naming_it(operator: User, settings: Any) -> None:
    settings.VISIONKIT_MAX_MODEL_BYTES = 1024 * 1024
    body = _refused(operator, _archive(_model_files()), status=413)
    assert "the limit is 1.0 MB" in body["detail"]
    assert "VISIONKIT_MAX_MODEL_MB" in body["detail"]


def test_a_viewer_cannot_register_and_one_source_is_required(viewer: User, operator: User) -> None:
    assert _post(viewer, _archive(_model_files())).status_code == 403
    client = APIClient()
    client.force_authenticate(operator)
    response = client.post("/api/models/", {"version": "3"}, format="multipart")
    assert response.status_code == 400
    assert "file" in json.dumps(response.json())
    assert not ModelVersion.objects.exists()


def _stored_training_job(operator: User, dataset: Any, pk_folder: str) -> Job:
    storage = storages["default"]
    for name in _FILES:
        storage.save(f"{pk_folder}/{name}", ContentFile((DEFAULT_MODEL / name).read_bytes()))
    return Job.objects.create(
        kind="train", status="succeeded", created_by=operator, dataset=dataset,
        result={"model_folder": pk_folder, "mlflow_run_id": "", "code_version": "abc1234"},
    )  # fmt: skip


def test_a_finished_training_job_registers_once_with_its_lineage(
    operator: User, dataset: Any
) -> None:
    job = _stored_training_job(operator, dataset, "jobs/41/model")
    client = APIClient()
    client.force_authenticate(operator)
    response = client.post("/api/models/", {"job": job.pk}, format="json")
    assert response.status_code == 201, response.content
    version = ModelVersion.objects.get(pk=response.json()["id"])
    assert version.dataset_version == dataset.version
    assert version.code_version == "abc1234"
    job.refresh_from_db()
    assert job.result_model == version

    again = client.post("/api/models/", {"job": job.pk}, format="json")
    assert again.status_code == 409
    assert "registered already" in again.json()["detail"]


def test_a_job_that_made_no_model_is_refused(operator: User, dataset: Any) -> None:
    job = Job.objects.create(kind="train", status="failed", created_by=operator, dataset=dataset)
    client = APIClient()
    client.force_authenticate(operator)
    response = client.post("/api/models/", {"job": job.pk}, format="json")
    assert response.status_code == 409
    assert "left no model" in response.json()["detail"]


def _tracked_run(folder: Path) -> str:
    """A real MLflow run in the portal's store, its model folder logged under ``model``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_sync.tracking_uri())
    experiment = client.get_experiment_by_name("registry-test")
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment("registry-test")
    )
    run = client.create_run(experiment_id)
    client.log_artifacts(run.info.run_id, str(folder), "model")
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def test_mlflow_aliases_follow_promotion_and_rollback(
    operator: User,
    approver: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from mlflow.tracking import MlflowClient

    name = "alias-test-unet"
    versions = []
    for number in ("1", "2"):
        with django_capture_on_commit_callbacks(execute=True):
            versions.append(
                services.register_model_folder(
                    folder=DEFAULT_MODEL,
                    user=operator,
                    name=name,
                    version=number,
                    mlflow_run_id=_tracked_run(DEFAULT_MODEL),
                )
            )
    for version in versions:
        version.refresh_from_db()
        assert version.mlflow_model_version, "registering did not create the MLflow version"
    client = MlflowClient(
        tracking_uri=mlflow_sync.tracking_uri(), registry_uri=mlflow_sync.tracking_uri()
    )

    def alias(which: str) -> str | None:
        try:
            return str(client.get_model_version_by_alias(name, which).version)
        except Exception:
            return None

    first, second = versions
    for version in versions:
        pass_gate(version)
        for stage in ("staging", "production"):
            with django_capture_on_commit_callbacks(execute=True):
                services.promote(model_version=version, stage=stage, reason="t", user=approver)
    assert alias("production") == second.mlflow_model_version
    assert alias("staging") is None

    with django_capture_on_commit_callbacks(execute=True):
        services.rollback(name=name, reason="second misses tips", user=approver)
    assert alias("production") == first.mlflow_model_version


def test_an_unreachable_mlflow_never_fails_the_registry(
    operator: User,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.VISIONKIT_MLFLOW_URI = "http://127.0.0.1:9/"  # nothing listens on the discard port
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    with django_capture_on_commit_callbacks(execute=True):
        version = services.register_model_folder(
            folder=DEFAULT_MODEL, user=operator, name="root-unet", version="5",
            mlflow_run_id="0123456789abcdef",
        )  # fmt: skip
    version.refresh_from_db()
    assert version.mlflow_model_version == ""
    assert mlflow_sync.sync_aliases("root-unet") == {}
