"""Jobs in a real django-q2 cluster: progress while they run, cancel, and a worker killed mid-job.

A ``manage.py qcluster`` process is started against the test's own database
(a file for SQLite; the test database on the server for PostgreSQL, with
Redis as the broker when ``VISIONKIT_REDIS_URL`` is set) and file storage.
Jobs are submitted through the API, exactly as a client would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.jobs.models import Job, Status
from tests.portal.cluster import running_cluster
from tests.portal.cluster import wait_for as _wait
from tests.portal.conftest import TINY_TRAINING

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cluster(
    media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[subprocess.Popen[bytes]]:
    """A running ``manage.py qcluster`` with one worker (tests/portal/cluster.py)."""
    with running_cluster(media, tmp_path, monkeypatch) as process:
        yield process


def _submit(operator: User, dataset: Any, **parameters: Any) -> int:
    client = APIClient()
    client.force_authenticate(operator)
    response = client.post(
        "/api/jobs/",
        {"kind": "train", "dataset": dataset.pk, "parameters": {**TINY_TRAINING, **parameters}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _job(pk: int) -> Job:
    return Job.objects.select_related("result_model").get(pk=pk)


def test_a_training_job_moves_in_a_real_cluster_and_registers_its_candidate(
    cluster: subprocess.Popen[bytes], operator: User, dataset: Any, tmp_path: Path
) -> None:
    log = tmp_path / "qcluster.log"
    pk = _submit(operator, dataset, epochs=3)
    seen: list[float] = []

    def finished() -> bool:
        job = _job(pk)
        if job.status == Status.RUNNING:
            seen.append(job.progress)
        return job.is_final

    _wait("the job to finish", finished, 240, log)
    job = _job(pk)
    assert job.status == Status.SUCCEEDED, job.error
    assert any(0.0 < p < 1.0 for p in seen), f"no progress seen while running: {seen[:20]}"
    assert job.heartbeat_at is not None
    assert job.result_model is not None
    assert job.result_model.stage == "candidate"
    assert job.result_model.mlflow_run_id
    assert job.result_model.dataset_version == dataset.version
    assert job.result_model.code_version


def test_a_running_job_cancelled_through_the_api_stops_within_seconds(
    cluster: subprocess.Popen[bytes], operator: User, dataset: Any, tmp_path: Path
) -> None:
    log = tmp_path / "qcluster.log"
    pk = _submit(operator, dataset, epochs=200)
    _wait("the job to make progress", lambda: _job(pk).progress > 0, 180, log)
    client = APIClient()
    client.force_authenticate(operator)
    assert client.post(f"/api/jobs/{pk}/cancel/").status_code == 200
    asked = time.monotonic()
    _wait("the job to be cancelled", lambda: _job(pk).is_final, 30, log)
    assert _job(pk).status == Status.CANCELLED
    assert time.monotonic() - asked < 15


def test_a_worker_killed_mid_job_leaves_the_job_failed_with_the_reason(
    cluster: subprocess.Popen[bytes], operator: User, dataset: Any, tmp_path: Path
) -> None:
    log = tmp_path / "qcluster.log"
    pk = _submit(operator, dataset, epochs=200)
    _wait("the job to make progress", lambda: _job(pk).progress > 0, 180, log)
    worker_pid = int(_job(pk).worker.rsplit(":", 1)[1])
    os.kill(worker_pid, signal.SIGKILL)
    _wait("the cluster to notice", lambda: _job(pk).is_final, 60, log)
    job = _job(pk)
    assert job.status == Status.FAILED
    assert f"worker process {worker_pid}" in job.error
    assert "died" in job.error
