"""The jobs' pages through Django's test client: the start form's checks, live status, cancel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.jobs.models import Job

pytestmark = pytest.mark.django_db


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_out_of_range_or_unreadable_parameters_are_named_and_nothing_starts(
    operator: User, dataset: Any
) -> None:
    answer = _logged_in(operator).post(
        "/jobs/", {"kind": "train", "dataset": dataset.pk, "epochs": "0", "batch_size": "many"}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Epochs: at least 1" in page
    assert "Batch size: write a whole number, not &#x27;many&#x27;" in page
    assert not Job.objects.exists()


def test_a_job_without_a_data_set_says_how_to_get_one(operator: User) -> None:
    page = _logged_in(operator).get("/jobs/").content.decode()
    assert "No data set is stored yet" in page
    answer = _logged_in(operator).post("/jobs/", {"kind": "train"})
    assert answer.status_code == 400
    assert "needs a data set" in answer.content.decode()


def test_a_viewer_sees_jobs_but_cannot_start_or_cancel_them(
    viewer: User, operator: User, dataset: Any
) -> None:
    job = Job.objects.create(kind="train", dataset=dataset, created_by=operator)
    client = _logged_in(viewer)
    listing = client.get("/jobs/").content.decode()
    assert "Start a job" not in listing
    assert f"job {job.pk}" in listing
    assert client.post("/jobs/", {"kind": "train", "dataset": dataset.pk}).status_code == 403
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 403
    status = client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert 'hx-trigger="every 2s"' in status, "a queued job's status keeps polling"
    assert "Cancel" not in status


def test_cancel_from_the_page_and_a_finished_job_stops_polling(
    operator: User, dataset: Any
) -> None:
    job = Job.objects.create(kind="train", dataset=dataset, created_by=operator)
    client = _logged_in(operator)
    answer = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert "cancel asked" in answer.content.decode()
    job.refresh_from_db()
    assert job.status == "cancelled"
    status = client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert "hx-trigger" not in status
    again = client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()
    assert "already cancelled" in again
