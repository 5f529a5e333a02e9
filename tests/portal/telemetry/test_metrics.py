"""GET /metrics after real work: requests, predictions, tips by band, jobs and the queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.jobs import services as jobs
from portal.jobs.models import Job
from portal.jobs.tasks import run_job
from portal.telemetry.metrics import tip_band
from portal.telemetry.middleware import MetricsMiddleware
from tests.portal.telemetry.conftest import grew, scrape, series, upload

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]

#: The label of the shipped model as the ``production_model`` fixture registers it.
VERSION = "root-unet:1"


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_prediction_through_the_api_is_counted_timed_and_its_tips_banded(
    operator: User, production_model: Any, plate: tuple[str, bytes]
) -> None:
    before = scrape()
    response = _client(operator).post(
        "/api/predictions/", {"image": upload(plate)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    after = scrape()

    request = {"method": "POST", "route": "api/predictions/", "model_version": VERSION}
    counted = series("visionkit_http_requests_total", status="201", **request)
    assert grew(before, after, counted) == 1
    assert grew(before, after, series("visionkit_http_request_seconds_count", **request)) == 1
    slowest = series("visionkit_http_request_seconds_bucket", le="+Inf", **request)
    assert grew(before, after, slowest) == 1
    assert 0 < grew(before, after, series("visionkit_http_request_seconds_sum", **request)) < 120
    predictions = series("visionkit_predictions_total", model_version=VERSION, source="api")
    assert grew(before, after, predictions) == 1

    plants = response.json()["plants"]
    expected = {band: 0 for band in ("high", "medium", "low", "none")}
    for plant in plants:
        expected[tip_band(plant["tip"])] += 1
    assert sum(expected.values()) == len(plants) == 5
    for band, count in expected.items():
        key = series("visionkit_tips_total", model_version=VERSION, band=band)
        assert after.get(key, 0.0) - before.get(key, 0.0) == count, band
    # The scrape is a request too; it made no prediction, so its model version is empty.
    scraped = series("visionkit_http_requests_total", method="GET", route="metrics", status="200",
                     model_version="")  # fmt: skip
    assert grew(before, after, scraped) == 1


def test_tips_fall_in_bands_by_the_robots_threshold(settings: Any) -> None:
    settings.VISIONKIT_TIP_CONFIDENCE = 0.9
    assert tip_band({"x": 1, "y": 2, "confidence": 0.95}) == "high"
    assert tip_band({"x": 1, "y": 2, "confidence": 0.9}) == "high"
    assert tip_band({"x": 1, "y": 2, "confidence": 0.85}) == "medium"
    assert tip_band({"x": 1, "y": 2, "confidence": 0.5}) == "medium"
    assert tip_band({"x": 1, "y": 2, "confidence": 0.2}) == "low"
    assert tip_band(None) == "none"


def test_routes_are_url_patterns_never_paths(viewer: User) -> None:
    client = Client()
    client.force_login(viewer)
    before = scrape()
    assert client.get("/api/predictions/424242/").status_code == 404
    assert client.get("/no-such-page/").status_code == 404
    after = scrape()
    pattern = series("visionkit_http_requests_total", method="GET",
                     route="api/predictions/<int:pk>/", status="404", model_version="")  # fmt: skip
    assert grew(before, after, pattern) == 1
    unmatched = series("visionkit_http_requests_total", method="GET", route="unmatched",
                       status="404", model_version="")  # fmt: skip
    assert grew(before, after, unmatched) == 1
    assert not any("424242" in value for _, labels in after for _, value in labels)


def test_a_view_may_name_the_model_version_of_its_request() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        request.visionkit_model_version = "root-unet:9"  # type: ignore[attr-defined]
        return HttpResponse(status=204)

    before = scrape()
    MetricsMiddleware(view)(RequestFactory().patch("/anywhere"))
    after = scrape()
    key = series("visionkit_http_requests_total", method="PATCH", route="unmatched",
                 status="204", model_version="root-unet:9")  # fmt: skip
    assert grew(before, after, key) == 1


def test_queued_and_running_jobs_and_the_queue_depth_are_read_when_scraped(
    operator: User, production_model: Any
) -> None:
    from django_q.brokers import get_broker

    values = scrape()
    assert values[series("visionkit_jobs_queued", kind="predict")] == 0
    job = jobs.submit_job(kind="predict", user=operator, inputs="batches/none", queue=False)
    values = scrape()
    assert values[series("visionkit_jobs_queued", kind="predict")] == 1
    assert values[series("visionkit_jobs_running", kind="predict")] == 0
    assert values[series("visionkit_jobs_queued", kind="train")] == 0
    Job.objects.filter(pk=job.pk).update(status="running")
    values = scrape()
    assert values[series("visionkit_jobs_queued", kind="predict")] == 0
    assert values[series("visionkit_jobs_running", kind="predict")] == 1

    broker = get_broker()
    depth = values[series("visionkit_queue_depth")]
    broker.enqueue("a task package nobody runs")
    try:
        assert scrape()[series("visionkit_queue_depth")] == depth + 1
    finally:
        broker.purge_queue()


def test_finished_jobs_are_timed_by_kind_and_status(
    operator: User, production_model: Any, plate: tuple[str, bytes],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(operator).post(
            "/api/predictions/batch/", {"images": [upload(plate)]}, format="multipart"
        )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded", job.error
    failing = jobs.submit_job(kind="predict", user=operator, inputs="batches/none", queue=False)
    run_job(failing.pk)
    failing.refresh_from_db()
    assert failing.status == "failed"
    after = scrape()

    succeeded = {"kind": "predict", "status": "succeeded"}
    assert grew(before, after, series("visionkit_job_seconds_count", **succeeded)) == 1
    assert grew(before, after, series("visionkit_job_seconds_sum", **succeeded)) > 0
    failed = series("visionkit_job_seconds_count", kind="predict", status="failed")
    assert grew(before, after, failed) == 1
    batch = series("visionkit_predictions_total", model_version=VERSION, source="batch")
    assert grew(before, after, batch) == 1


_WRITER = """
import sys
from portal.telemetry.metrics import PREDICTIONS
PREDICTIONS.labels(model_version="other-process:7", source="api").inc(int(sys.argv[1]))
"""


def test_under_gunicorn_every_process_counts_and_metrics_adds_them_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for count in ("3", "2"):  # two worker processes, each with its own file
        subprocess.run([sys.executable, "-c", _WRITER, count], env=env, cwd=ROOT, check=True,
                       timeout=120)  # fmt: skip
    assert len(list(folder.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    values = scrape()
    assert values[series("visionkit_predictions_total", model_version="other-process:7",
                         source="api")] == 5  # fmt: skip
    # The job gauges are read from the database on this registry too.
    assert series("visionkit_jobs_queued", kind="predict") in values
    # Only the processes' files: not this process's own default registry.
    assert not any(name.startswith("process_") for name, _ in values)


def test_make_run_gives_both_processes_a_fresh_metrics_folder(tmp_path: Path) -> None:
    from portal.serve import prepare_environment

    stale = tmp_path / "var" / "prometheus" / "counter_123.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old run")
    env = prepare_environment({"VISIONKIT_VAR_DIR": str(tmp_path / "var")})
    assert env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "var" / "prometheus")
    assert Path(env["PROMETHEUS_MULTIPROC_DIR"]).is_dir()
    assert not stale.exists()
    given = prepare_environment(
        {"VISIONKIT_VAR_DIR": str(tmp_path / "var"), "PROMETHEUS_MULTIPROC_DIR": "/elsewhere"}
    )
    assert given["PROMETHEUS_MULTIPROC_DIR"] == "/elsewhere"


def test_gunicorn_drops_a_dead_workers_live_gauges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    from types import SimpleNamespace

    conf = importlib.import_module("portal.gunicorn_conf")
    live = tmp_path / "gauge_livesum_4242.db"
    live.write_bytes(b"")
    kept = tmp_path / "counter_4242.db"
    kept.write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf.child_exit(None, SimpleNamespace(pid=4242))
    assert not live.exists()
    assert kept.exists()  # a dead worker's counts still count
