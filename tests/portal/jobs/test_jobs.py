"""Jobs run inline (VISIONKIT_Q_SYNC=1): submit, run, fail, cancel, reap."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.jobs import reaper, services
from portal.jobs.context import JobCancelled
from portal.jobs.models import Job, Status
from portal.jobs.tasks import run_job
from tests.portal.conftest import TINY_TRAINING

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _untracked(settings: Any) -> None:
    settings.VISIONKIT_JOB_TRACK = False  # the MLflow round trip is tested with a real qcluster


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_training_job_runs_registers_its_candidate_and_keeps_its_log(
    operator: User, dataset: Any, stored_files: Callable[..., list[str]],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(operator).post(
            "/api/jobs/",
            {"kind": "train", "dataset": dataset.pk, "parameters": TINY_TRAINING},
            format="json",
        )
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Status.SUCCEEDED, job.error
    assert job.progress == 1.0
    assert job.result_model is not None
    candidate = job.result_model
    assert candidate.stage == "candidate"
    assert candidate.dataset_version == dataset.version
    assert candidate.code_version
    assert candidate.version == f"job{job.pk}"
    assert "registered" in job.log_tail
    assert job.worker.startswith(socket.gethostname())
    assert any(name.startswith(f"jobs/{job.pk}/model/") for name in stored_files())
    detail = _client(operator).get(f"/api/jobs/{job.pk}/").json()
    assert (detail["status"], detail["result_model"]) == ("succeeded", candidate.pk)
    planned, cost = job.result["planned_cost"], job.result["cost"]
    assert (planned["compute"], cost["compute"]) == ("local-cpu", "local-cpu")
    assert cost["duration_s"] > 0
    page = Client()
    page.force_login(operator)
    shown = page.get(f"/jobs/{job.pk}/").content.decode()
    assert f"Planned cost</dt><dd>{planned['description']}" in shown
    assert "Actual cost</dt><dd>" in shown
    assert " on local-cpu × 1 ≈ $" in shown


def test_unknown_parameters_are_refused_naming_each(operator: User, dataset: Any) -> None:
    response = _client(operator).post(
        "/api/jobs/",
        {"kind": "train", "dataset": dataset.pk, "parameters": {"epoch": 2, "colour": "red"}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "colour" in body["detail"]
    assert "epoch: unknown (did you mean epochs?)" in body["problems"]
    assert Job.objects.count() == 0


def test_a_bad_parameter_value_is_refused_with_the_librarys_reason(
    operator: User, dataset: Any
) -> None:
    response = _client(operator).post(
        "/api/jobs/",
        {"kind": "train", "dataset": dataset.pk, "parameters": {"epochs": 0}},
        format="json",
    )
    assert response.status_code == 400
    assert "epochs" in response.json()["detail"]


def test_a_training_job_needs_a_data_set(operator: User) -> None:
    response = _client(operator).post("/api/jobs/", {"kind": "train"}, format="json")
    assert response.status_code == 400
    assert "data set" in response.json()["detail"]


def test_a_viewer_cannot_start_or_cancel_jobs(viewer: User, dataset: Any) -> None:
    client = _client(viewer)
    assert client.post("/api/jobs/", {"kind": "train", "dataset": dataset.pk}).status_code == 403
    assert client.get("/api/jobs/").status_code == 200


def test_a_failing_job_is_marked_failed_with_a_reason_and_leaves_no_files(
    operator: User, dataset: Any, stored_files: Callable[..., list[str]]
) -> None:
    from django.core.files.storage import storages

    # A data set file lost from the storage: the job cannot copy its data.
    lost = dataset.manifest["files"][0]["path"]
    storages["default"].delete(f"{dataset.prefix}/{lost}")
    job = services.submit_job(kind="train", user=operator, dataset=dataset,
                              parameters=TINY_TRAINING, queue=False)  # fmt: skip
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert f"{lost} is missing from the file storage" in job.error
    assert "failed:" in job.log_tail
    assert not any(name.startswith(f"jobs/{job.pk}/") for name in stored_files())


def test_cancelling_a_finished_job_is_a_conflict(operator: User, dataset: Any) -> None:
    job = services.submit_job(kind="train", user=operator, dataset=dataset, queue=False)
    Job.objects.filter(pk=job.pk).update(status=Status.SUCCEEDED)
    response = _client(operator).post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 409
    assert "already succeeded" in response.json()["detail"]


def test_a_queued_job_cancelled_never_runs(operator: User, dataset: Any) -> None:
    job = services.submit_job(kind="train", user=operator, dataset=dataset, queue=False)
    response = _client(operator).post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    run_job(job.pk)  # a late delivery of its task does nothing
    job.refresh_from_db()
    assert (job.status, job.started_at) == (Status.CANCELLED, None)


def test_a_running_job_stops_when_cancelled(
    operator: User, dataset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.jobs import context

    job = services.submit_job(
        kind="train", user=operator, dataset=dataset,
        parameters={**TINY_TRAINING, "epochs": 50}, queue=False,
    )  # fmt: skip
    monkeypatch.setattr(context, "CANCEL_EVERY_S", 0.0)
    original = context.JobContext.progress

    def cancel_midway(
        self: context.JobContext, fraction: float, message: str | None = None
    ) -> None:
        original(self, fraction, message)
        if fraction > 0.02 and not Job.objects.get(pk=self.job.pk).cancel_requested:
            services.cancel_job(job=self.job.pk, user=operator)

    monkeypatch.setattr(context.JobContext, "progress", cancel_midway)
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert job.error == "cancelled by operator"
    assert job.progress < 0.5
    assert job.result_model is None


def test_the_reaper_fails_jobs_of_dead_workers_and_stale_heartbeats(
    operator: User, dataset: Any
) -> None:
    host = socket.gethostname()
    dead = services.submit_job(kind="train", user=operator, dataset=dataset, queue=False)
    stale = services.submit_job(kind="train", user=operator, dataset=dataset, queue=False)
    alive = services.submit_job(kind="train", user=operator, dataset=dataset, queue=False)
    now = timezone.now()
    Job.objects.filter(pk=dead.pk).update(status=Status.RUNNING, worker=f"{host}:999999",
                                          heartbeat_at=now)  # fmt: skip
    Job.objects.filter(pk=stale.pk).update(status=Status.RUNNING, worker="elsewhere:1",
                                           heartbeat_at=now - dt.timedelta(hours=1))  # fmt: skip
    Job.objects.filter(pk=alive.pk).update(status=Status.RUNNING, worker=f"{host}:{os.getpid()}",
                                           heartbeat_at=now)  # fmt: skip
    assert sorted(reaper.reap()) == sorted([dead.pk, stale.pk])
    dead.refresh_from_db()
    stale.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == stale.status == Status.FAILED
    assert "worker process 999999" in dead.error
    assert "no heartbeat" in stale.error
    assert alive.status == Status.RUNNING
    call_command("reap_jobs")  # the command finds nothing more
    assert not reaper.pid_alive(999999)


def test_job_cancelled_is_not_a_runtime_error() -> None:
    # The training loop swallows a RuntimeError when a stop was asked for:
    # cancelling must not be one.
    assert not issubclass(JobCancelled, RuntimeError)


def test_the_estimate_endpoint_prices_a_training_job_and_queues_nothing(
    viewer: User, dataset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISIONKIT_PRICE_TABLE", raising=False)
    body = {"kind": "train", "dataset": dataset.pk, "parameters": {
        "backend": "azureml", "vm_size": "Standard_NC24ads_A100_v4", "nodes": 4,
        "epochs": 100, "patches_per_epoch": 36000}}  # fmt: skip
    answer = _client(viewer).post("/api/jobs/estimate/", body, format="json")
    assert answer.status_code == 200, answer.content
    planned = answer.json()
    # 3.6e6 patches at 4 x 600/s: 25 min, plus 5 to start; 0.5 h x 4 nodes x $3.673.
    assert (planned["compute"], planned["nodes"]) == ("Standard_NC24ads_A100_v4", 4)
    assert planned["hours"] == pytest.approx(0.5)
    assert planned["usd"] == pytest.approx(7.346)
    assert planned["description"] == "about 30 min on Standard_NC24ads_A100_v4 × 4 ≈ $7.35"
    assert "2024-06" in planned["prices"]
    assert not Job.objects.exists()


def test_the_estimate_follows_a_price_table_from_the_environment(
    viewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISIONKIT_PRICE_TABLE", '{"local-cpu": 36.0}')
    body = {"kind": "train", "parameters": {"epochs": 1, "patches_per_epoch": 380}}
    planned = _client(viewer).post("/api/jobs/estimate/", body, format="json").json()
    assert planned["usd"] == pytest.approx(1.0)  # 100 s at $36/h
    assert planned["prices"].startswith("prices from VISIONKIT_PRICE_TABLE")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"kind": "evaluate"}, "only training jobs are priced"),
        ({"kind": "train", "parameters": {"epoch": 3}}, "unknown parameters for a train"),
        ({"kind": "train", "parameters": {"backend": "azureml", "vm_size": "Standard_Bogus"}},
         "VM size 'Standard_Bogus' is not in the price table"),
        ({"kind": "train", "parameters": {"backend": "azureml", "nodes": 0}},
         "parameter nodes must be a whole number >= 1"),
    ],
)  # fmt: skip
def test_a_bad_estimate_request_is_a_400_that_says_why(
    viewer: User, body: dict[str, Any], detail: str
) -> None:
    answer = _client(viewer).post("/api/jobs/estimate/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert detail in answer.json()["detail"]


def test_submitting_an_unpriced_vm_size_is_refused_before_anything_is_stored(
    operator: User, dataset: Any
) -> None:
    body = {"kind": "train", "dataset": dataset.pk,
            "parameters": {"backend": "azureml", "vm_size": "Standard_Bogus"}}  # fmt: skip
    answer = _client(operator).post("/api/jobs/", body, format="json")
    assert answer.status_code == 400
    assert "VM size 'Standard_Bogus' is not in the price table" in answer.json()["detail"]
    assert not Job.objects.exists()


def test_the_estimate_endpoint_is_in_the_openapi_schema() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/jobs/estimate/"]["post"]
    assert operation["summary"] == "Estimate a training job's cost"
    reply = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][reply.rsplit("/", 1)[-1]]["properties"]
    assert {"compute", "nodes", "hours", "usd_per_hour", "usd", "description"} <= set(fields)


def test_an_evaluation_may_fit_tip_doubts_at_a_risk_below_one() -> None:
    from portal.common.errors import PortalError
    from portal.jobs.parameters import check_parameters

    assert check_parameters("evaluate", {"fit_tips": True, "tip_risk": 0.02}) == {
        "fit_tips": True,
        "tip_risk": 0.02,
    }
    with pytest.raises(PortalError, match="parameter tip_risk must be below 1"):
        check_parameters("evaluate", {"fit_tips": True, "tip_risk": 1.0})
