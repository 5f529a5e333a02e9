"""Batches: several images or a zip -> 202 with a predict job, which makes one prediction each.

In the test run django-q2 runs tasks inline, so the job runs when the
request's transaction commits (``django_capture_on_commit_callbacks``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.jobs.models import Job
from portal.predictions.models import Prediction

pytestmark = pytest.mark.django_db


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _file(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_a_zip_of_plates_becomes_a_job_with_one_prediction_per_image(
    operator: User,
    production_model: Any,
    synthetic_plate: tuple[str, bytes],
    django_capture_on_commit_callbacks: Any,
    stored_files: Callable[..., list[str]],
) -> None:
    name, data = synthetic_plate
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"plates/{name}", data)
        archive.writestr("plates/second.png", data)
        archive.writestr("plates/corrupt.png", b"\x89PNG broken")
        archive.writestr("plates/notes.txt", b"not an image")
    buffer.seek(0)
    buffer.name = "plates.zip"
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(operator).post(
            "/api/predictions/batch/", {"file": buffer, "calibration": "ot2"}, format="multipart"
        )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.status) == ("predict", "succeeded"), job.error
    result = job.result
    assert (result["images"], result["predicted"]) == (3, 2)
    assert list(result["failed"]) == ["corrupt.png"]
    predictions = Prediction.objects.filter(job=job)
    assert {p.image_name for p in predictions} == {name, "second.png"}
    assert all(p.source == "batch" for p in predictions)
    assert "notes.txt" in job.log_tail
    assert not stored_files("batches/"), "the batch's own copies stay behind"

    read = _client(operator).get(f"/api/jobs/{job.pk}/").json()
    assert read["status"] == "succeeded"
    assert read["progress"] == 1.0


def test_several_images_in_one_request_make_one_batch(
    operator: User,
    production_model: Any,
    synthetic_plate: tuple[str, bytes],
    django_capture_on_commit_callbacks: Any,
) -> None:
    name, data = synthetic_plate
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(operator).post(
            "/api/predictions/batch/",
            {"images": [_file(name, data), _file("b.png", data)]},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert Prediction.objects.filter(job_id=response.json()["id"]).count() == 2


def test_a_batch_without_images_or_with_a_hostile_zip_is_refused(
    operator: User, production_model: Any, stored_files: Callable[..., list[str]]
) -> None:
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", b"no plates here")
    empty.seek(0)
    empty.name = "empty.zip"
    response = _client(operator).post("/api/predictions/batch/", {"file": empty},
                                      format="multipart")  # fmt: skip
    assert response.status_code == 400
    assert "holds no images" in response.json()["detail"]

    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../../escape.png", b"x")
    hostile.seek(0)
    hostile.name = "hostile.zip"
    response = _client(operator).post("/api/predictions/batch/", {"file": hostile},
                                      format="multipart")  # fmt: skip
    assert response.status_code == 400
    assert "outside" in response.json()["detail"]
    assert not Job.objects.exists()
    assert stored_files() == []


def test_a_viewer_cannot_start_a_batch(viewer: User, synthetic_plate: tuple[str, bytes]) -> None:
    name, data = synthetic_plate
    response = _client(viewer).post(
        "/api/predictions/batch/", {"images": [_file(name, data)]}, format="multipart"
    )
    assert response.status_code == 403
