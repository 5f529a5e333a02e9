"""The portal's ``manage.py`` commands: work done from the command line shows in the portal.

Each command is a thin layer over a service; these tests run them as a user
types them (``call_command`` with the same arguments) and read the result
back through the models and the API.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import cv2
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from portal.accounts.models import User
from portal.accounts.permissions import Role, role_of
from portal.datasets.models import DatasetVersion
from portal.jobs.models import Job
from portal.predictions.models import Prediction
from portal.registry.models import ModelVersion
from tests.portal.conftest import DEFAULT_MODEL, TINY_TRAINING, pass_gate

pytestmark = pytest.mark.django_db


def _run(*args: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _sets(params: dict[str, object]) -> list[str]:
    import json

    pairs: list[str] = []
    for key, value in params.items():
        pairs += ["--set", f"{key}={json.dumps(value)}"]
    return pairs


def test_register_model_takes_a_folder_or_its_zip(operator: User, tmp_path: Path) -> None:
    out, _ = _run("register_model", str(DEFAULT_MODEL), "--name", "root-unet",
                  "--model-version", "1", "--user", "operator")  # fmt: skip
    assert "registered root-unet v1 as candidate" in out
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in DEFAULT_MODEL.iterdir():
            handle.write(path, path.name)
    out, _ = _run("register_model", str(archive), "--name", "root-unet", "--model-version", "2")
    assert "registered root-unet v2" in out
    assert ModelVersion.objects.get(version="1").registered_by == operator
    with pytest.raises(CommandError, match="registered already"):
        _run("register_model", str(DEFAULT_MODEL), "--name", "root-unet", "--model-version", "1")
    with pytest.raises(CommandError, match="no such folder or file"):
        _run("register_model", str(tmp_path / "nothing"))


def test_promote_and_rollback_need_an_approver_and_a_reason(operator: User, approver: User) -> None:
    for number in ("1", "2"):
        _run("register_model", str(DEFAULT_MODEL), "--name", "root-unet", "--model-version", number)
    with pytest.raises(CommandError, match="does not allow"):
        _run("promote", "root-unet:1", "--stage", "staging", "--reason", "x", "--user", "operator")
    for ref in ("root-unet:1", "root-unet:2"):
        pass_gate(ModelVersion.objects.get(version=ref[-1]))
        for stage in ("staging", "production"):
            out, _ = _run("promote", ref, "--stage", stage, "--reason", "ok", "--user", "approver")
            assert f"-> {stage}" in out
    assert ModelVersion.objects.get(stage="production").version == "2"
    out, _ = _run("rollback", "root-unet", "--reason", "v2 misses tips", "--user", "approver")
    assert "root-unet v1 is in production again" in out
    with pytest.raises(CommandError, match="no model version"):
        _run("promote", "root-unet:9", "--stage", "staging", "--reason", "x", "--user", "approver")


def test_create_token_prints_the_same_token_the_api_hands_out(operator: User) -> None:
    out, _ = _run("create_token", "operator")
    assert out.strip() == Token.objects.get(user=operator).key
    again, err = _run("create_token", "operator", "--reset")
    assert again.strip() != out.strip()
    assert "revoked" in err
    with pytest.raises(CommandError, match="no user is called"):
        _run("create_token", "nobody")


def test_predict_records_each_image_as_a_command_prediction(
    operator: User, production_model: Any, tmp_path: Path
) -> None:
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(7, SynthConfig().scaled(0.25))
    image = tmp_path / f"{plate.name.removesuffix('.png')}.png"
    cv2.imwrite(str(image), plate.image)
    (tmp_path / "notes.txt").write_text("not an image")
    out, _ = _run("predict", str(tmp_path), "--user", "operator", "--calibration", "ot2")
    (prediction,) = Prediction.objects.all()
    assert (prediction.source, prediction.created_by) == ("command", operator)
    assert f"{prediction.n_plants} plants" in out
    assert prediction.contract["plants"], prediction.contract

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    with pytest.raises(CommandError, match="1 image"):
        _run("predict", str(broken))
    assert Prediction.objects.count() == 1


def test_train_from_a_folder_records_a_job_and_registers_a_candidate(
    operator: User, plates_folder: Path
) -> None:
    out, _ = _run("train", "--data", str(plates_folder), *_sets(TINY_TRAINING),
                  "--user", "operator")  # fmt: skip
    (job,) = Job.objects.all()
    assert (job.kind, job.status, job.created_by) == ("train", "succeeded", operator)
    assert job.result_model is not None
    assert job.result_model.stage == "candidate"
    assert f"(id {job.result_model.pk}) as a candidate" in out
    assert DatasetVersion.objects.get().version == job.dataset.version
    assert "epoch 2/2" in job.log_tail

    with pytest.raises(CommandError, match="unknown"):
        _run("train", "--dataset", job.dataset.version[:8], "--set", "epoch=3")
    assert Job.objects.count() == 1


def test_evaluate_scores_a_named_model_on_a_stored_data_set(
    operator: User, production_model: Any, dataset: Any
) -> None:
    out, _ = _run("evaluate", "--dataset", str(dataset.pk), "--model", "root-unet",
                  "--set", "limit=2")  # fmt: skip
    job = Job.objects.get(kind="evaluate")
    assert job.status == "succeeded"
    assert job.model_version == production_model
    assert '"segmentation"' in out
    with pytest.raises(CommandError, match="no single data set"):
        _run("evaluate", "--dataset", "ffffffffffff")


def test_seed_demo_makes_a_portal_with_something_in_it_and_is_idempotent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VISIONKIT_DEMO_PASSWORD", "demo-password-for-tests")
    out, _ = _run("seed_demo", "--plates", "1")
    assert "password: demo-password-for-tests" in out
    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER, Role.ADMIN):
        user = authenticate(username=role.group, password="demo-password-for-tests")
        assert user is not None, role
        assert role_of(user) is role
    assert User.objects.get(username="admin").is_staff
    production = ModelVersion.objects.get(stage="production")
    assert production.name == "root-unet"
    assert DatasetVersion.objects.count() == 1
    assert Prediction.objects.filter(source="demo").count() == 1
    from django_q.models import Schedule

    assert set(Schedule.objects.values_list("name", flat=True)) >= {
        "visionkit-weekly-retraining", "visionkit-monitoring-checks"
    }  # fmt: skip
    schedules = Schedule.objects.count()
    assert len(production.reference_stats) == 6  # the shipped model's drift reference
    assert production.registered_by is None  # so the demo admin may approve it

    monkeypatch.delenv("VISIONKIT_DEMO_PASSWORD")
    out, _ = _run("seed_demo", "--plates", "1")
    assert "passwords unchanged" in out
    assert "predictions made now: 0" in out
    assert ModelVersion.objects.count() == 1
    assert DatasetVersion.objects.count() == 1
    assert Prediction.objects.count() == 1
    assert Schedule.objects.count() == schedules
    assert authenticate(username="viewer", password="demo-password-for-tests") is not None
