"""The whole MLOps loop for real, on small data, with the jobs in a real django-q2 worker.

A new version of the training data set triggers retraining (fine-tuning the
production model); the worker trains, registers the candidate, gates it
against production on the held-out set and stages it; an approver (not the
registrant) approves it through the API; the switch smoke-checks it and moves
the deployment's live slot; predictions in this process and in the worker are
served by it; a rollback through the API brings the previous version back for
both. Every step is in the audit trail with who and why.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.datasets.services import create_dataset_from_folder
from portal.jobs.models import Job, Kind, Status, Trigger
from portal.predictions.models import Prediction
from portal.registry.models import GateCheck, ModelVersion, StageChange
from portal.serving.models import Deployment, DeploymentEvent
from tests.portal.cluster import running_cluster, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

#: Fine-tune a few patches at a tiny learning rate: the candidate stays close to production,
#: so the gate and the smoke check judge a sound model (the loop, not the training, is tested).
RETRAIN = {"epochs": 1, "patches_per_epoch": 8, "batch_size": 4, "lr": 1e-7, "data_scale": 0.125,
           "val_fraction": 0.25, "early_stopping_patience": 5, "fine_tune": True}  # fmt: skip
#: Four plates hold about twenty tips: one tip is five points of "tips within 1 mm".
GATE = "root_f1:higher:0.05,tips_within_1mm:higher:0.15,length_smape:lower:10"


@pytest.fixture
def loop_settings(settings: Any, tmp_path: Path) -> dict[str, str]:
    """The same MLOps settings in this process and in the cluster's."""
    env = {
        "VISIONKIT_TRAINING_DATASET": "training",
        "VISIONKIT_HOLDOUT_DATASET": "holdout",
        "VISIONKIT_RETRAIN_PARAMETERS": json.dumps(RETRAIN),
        "VISIONKIT_GATE_METRICS": GATE,
        "VISIONKIT_EMAIL_DIR": str(tmp_path / "mail"),
        "VISIONKIT_JOB_TRACK": "0",
    }
    settings.VISIONKIT_TRAINING_DATASET = "training"
    settings.VISIONKIT_HOLDOUT_DATASET = "holdout"
    settings.VISIONKIT_RETRAIN_PARAMETERS = env["VISIONKIT_RETRAIN_PARAMETERS"]
    settings.VISIONKIT_GATE_METRICS = GATE
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = env["VISIONKIT_EMAIL_DIR"]
    return env


@pytest.fixture
def worker(
    media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loop_settings: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """A real qcluster with the loop's settings."""
    with running_cluster(media, tmp_path, monkeypatch, **loop_settings) as process:
        yield process


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _plate_png(seed: int) -> bytes:
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(seed, SynthConfig().scaled(0.25), index=0).cropped()
    ok, encoded = cv2.imencode(".png", plate.image)
    assert ok
    return encoded.tobytes()


def _predict_here(operator: User, seed: int) -> Prediction:
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = _client(operator).post(
        "/api/predictions/",
        {"image": SimpleUploadedFile(f"plate-{seed}.png", _plate_png(seed), "image/png")},
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    return Prediction.objects.get(pk=answer.json()["id"])


def _predict_in_worker(operator: User, seed: int, log: Path) -> Prediction:
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = _client(operator).post(
        "/api/predictions/batch/",
        {"images": [SimpleUploadedFile(f"batch-{seed}.png", _plate_png(seed), "image/png")]},
        format="multipart",
    )
    assert answer.status_code == 202, answer.content
    pk = answer.json()["id"]
    wait_for("the batch job", lambda: Job.objects.get(pk=pk).is_final, 120, log)
    job = Job.objects.get(pk=pk)
    assert job.status == Status.SUCCEEDED, job.error
    return Prediction.objects.get(job=job)


def test_new_data_retrains_gates_approves_switches_serves_and_rolls_back(
    worker: subprocess.Popen[bytes],
    production_model: ModelVersion,
    operator: User,
    approver: User,
    plates_folder: Path,
    tmp_path: Path,
) -> None:
    from visionkit.synth import SynthConfig, generate_dataset

    log = tmp_path / "qcluster.log"
    approver.email = "approver@example.org"
    approver.save()
    create_dataset_from_folder(folder=plates_folder, name="holdout", user=operator)
    training = tmp_path / "training"
    generate_dataset(training, 4, seed=41, crop=True, config=SynthConfig().scaled(0.125),
                     progress=False)  # fmt: skip

    # 1. A new version of the training data set: the trigger queues a fine-tuning run.
    dataset, created = create_dataset_from_folder(folder=training, name="training", user=operator)
    assert created
    train = Job.objects.get(kind=Kind.TRAIN)
    assert (train.trigger, train.dataset_id) == (Trigger.DATASET, dataset.pk)
    assert train.parameters["fine_tune_from"] == production_model.pk

    # 2. The worker trains, registers, gates and stages the candidate.
    wait_for("training", lambda: Job.objects.get(pk=train.pk).is_final, 300, log)
    train.refresh_from_db()
    assert train.status == Status.SUCCEEDED, train.error
    candidate = ModelVersion.objects.get(pk=train.result["model_version"])
    assert candidate.reference_stats, "no drift reference stored at registration"
    gate_job = Job.objects.get(pk=train.result["gate_job"])
    wait_for("the gate", lambda: Job.objects.get(pk=gate_job.pk).is_final, 300, log)
    gate_job.refresh_from_db()
    assert gate_job.status == Status.SUCCEEDED, gate_job.error
    check = GateCheck.objects.get(candidate=candidate)
    assert check.baseline == production_model
    assert check.dataset.name == "holdout"
    assert check.passed, check.comparison
    assert {row["metric"] for row in check.comparison} == {
        "root_f1", "tips_within_1mm", "length_smape"
    }  # fmt: skip
    candidate.refresh_from_db()
    assert candidate.stage == "staging"
    mails = list((tmp_path / "mail").glob("*.log"))
    assert mails
    assert "gate passed" in mails[0].read_text()
    detail = _client(operator).get(f"/api/models/{candidate.pk}/").json()
    assert detail["gate_checks"][0]["passed"] is True

    # 3. Nothing promotes itself: the worker stopped at staging; an approver approves.
    answer = _client(approver).post(
        f"/api/models/{candidate.pk}/promote/",
        {"stage": "production", "reason": "gate passed on holdout; approved"}, format="json",
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    deployment = Deployment.objects.get(name=candidate.name)
    assert deployment.live_id == candidate.pk
    assert deployment.idle_id == production_model.pk
    switch = DeploymentEvent.objects.filter(action="promote").first()
    assert switch is not None
    assert switch.by == approver
    assert switch.smoke["passed"]
    assert switch.smoke["plants"] == 5

    # 4. Served by the new version here and in the worker.
    assert _predict_here(operator, 7).model_version == candidate
    assert _predict_in_worker(operator, 8, log).model_version == candidate

    # 5. Rollback in one action: the previous version serves again, at once, everywhere.
    generation = deployment.generation
    back = _client(approver).post(
        "/api/models/rollback/", {"name": candidate.name, "reason": "lab reports misses"},
        format="json",
    )  # fmt: skip
    assert back.status_code == 200, back.content
    deployment.refresh_from_db()
    assert (deployment.live_id, deployment.generation) == (production_model.pk, generation + 1)
    assert _predict_here(operator, 9).model_version == production_model
    assert _predict_in_worker(operator, 10, log).model_version == production_model

    # 6. The audit trail: every step, with who and why.
    trail = [
        (c.from_stage, c.to_stage, c.changed_by, c.reason)
        for c in StageChange.objects.filter(model_version=candidate).order_by("id")
    ]
    assert [t[:2] for t in trail] == [
        ("", "candidate"), ("candidate", "staging"), ("staging", "production"),
        ("production", "archived"),
    ]  # fmt: skip
    assert trail[0][3] == f"trained by job {train.pk}"
    assert trail[1][2] is None
    assert f"gate job {gate_job.pk}" in trail[1][3]
    assert trail[2][2] == approver
    assert "approved" in trail[2][3]
    assert trail[3][2] == approver
    assert "lab reports misses" in trail[3][3]
    events = [(e.action, e.by, e.model_version_id) for e in
              DeploymentEvent.objects.filter(deployment=deployment).order_by("id")]  # fmt: skip
    assert events[-2:] == [("promote", approver, candidate.pk),
                           ("rollback", approver, production_model.pk)]  # fmt: skip
    assert "new version" in train.reason
    assert gate_job.trigger == Trigger.PIPELINE
