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


_WORKSPACE = ("VISIONKIT_AZUREML_SUBSCRIPTION", "VISIONKIT_AZUREML_RESOURCE_GROUP",
              "VISIONKIT_AZUREML_WORKSPACE")  # fmt: skip


@pytest.fixture
def no_azureml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Azure ML not configured: none of its workspace variables set."""
    for name in (*_WORKSPACE, "VISIONKIT_AZUREML_VM_SIZE", "VISIONKIT_PRICE_TABLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def azureml(monkeypatch: pytest.MonkeyPatch, no_azureml: None) -> None:
    """Azure ML configured (names only: estimating never calls Azure)."""
    for name in _WORKSPACE:
        monkeypatch.setenv(name, "test-" + name.rsplit("_", 1)[-1].lower())


def test_the_start_form_shows_an_estimate_and_offers_azure_ml_only_when_configured(
    operator: User, dataset: Any, no_azureml: None
) -> None:
    page = _logged_in(operator).get("/jobs/").content.decode()
    assert "Estimate:</strong>" in page
    # The form's defaults: 2 epochs x 64 patches at 3.8 patches/s on this server's CPU.
    assert "about 34 s on local-cpu × 1 ≈ $0.0002" in page
    assert "dated 2024-06" in page
    assert 'value="azureml" disabled' in page
    assert "Azure ML is not configured here: set VISIONKIT_AZUREML_SUBSCRIPTION" in page
    assert '<option value="Standard_NC4as_T4_v3" selected>' in page
    assert 'hx-get="/jobs/estimate/"' in page


def test_the_estimate_fragment_follows_the_fields(operator: User, azureml: None) -> None:
    client = _logged_in(operator)
    form = {"kind": "train", "patches_per_epoch": "64"}
    small = client.get("/jobs/estimate/", {**form, "epochs": "2"}).content.decode()
    large = client.get("/jobs/estimate/", {**form, "epochs": "200"}).content.decode()
    assert "about 34 s on local-cpu × 1" in small
    assert "about 56 min on local-cpu × 1 ≈ $0.02" in large
    azure = client.get("/jobs/estimate/", {
        "kind": "train", "backend": "azureml", "vm_size": "Standard_NC4as_T4_v3", "nodes": "2",
        "epochs": "100", "patches_per_epoch": "10000",
    }).content.decode()  # fmt: skip
    # 1e6 patches at 2 x 150/s is 55.6 min, plus 5 min to start a node: 1.01 h x 2 x $0.526.
    assert "about 61 min on Standard_NC4as_T4_v3 × 2 ≈ $1.06" in azure
    evaluate = client.get("/jobs/estimate/", {"kind": "evaluate"}).content.decode()
    assert "Only training jobs are priced." in evaluate


def test_a_viewer_may_read_an_estimate(viewer: User, no_azureml: None) -> None:
    answer = _logged_in(viewer).get("/jobs/estimate/", {"kind": "train"})
    assert answer.status_code == 200
    assert "local-cpu" in answer.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"epochs": "lots"}, "Epochs: write a whole number, not &#x27;lots&#x27;"),
        ({"backend": "azureml"}, "Azure ML is not configured here (set VISIONKIT_AZUREML_"),
        ({"backend": "cloud"}, "Runs on: one of local, azureml, not &#x27;cloud&#x27;"),
    ],
)
def test_a_bad_estimate_value_is_a_clear_message_not_an_error(
    operator: User, no_azureml: None, query: dict[str, str], message: str
) -> None:
    answer = _logged_in(operator).get("/jobs/estimate/", {"kind": "train", **query})
    assert answer.status_code == 200  # htmx swaps the message in place of a stale estimate
    assert "No estimate:" in answer.content.decode()
    assert message in answer.content.decode()


def test_an_unpriced_vm_size_is_refused_by_the_estimate_and_the_form(
    operator: User, dataset: Any, azureml: None
) -> None:
    client = _logged_in(operator)
    query = {"kind": "train", "backend": "azureml", "vm_size": "Standard_Bogus"}
    line = client.get("/jobs/estimate/", query).content.decode()
    assert "VM size: &#x27;Standard_Bogus&#x27; is not in the price table" in line
    answer = client.post("/jobs/", {**query, "dataset": dataset.pk})
    assert answer.status_code == 400
    assert not Job.objects.exists()


def test_a_submitted_training_job_keeps_its_planned_cost_and_its_page_shows_it(
    operator: User, dataset: Any, azureml: None
) -> None:
    client = _logged_in(operator)
    answer = client.post("/jobs/", {
        "kind": "train", "dataset": dataset.pk, "epochs": "3", "backend": "azureml",
        "vm_size": "Standard_NC6s_v3", "nodes": "2",
    })  # fmt: skip
    assert answer.status_code == 302
    job = Job.objects.get()
    assert job.parameters == {"epochs": 3, "backend": "azureml", "vm_size": "Standard_NC6s_v3",
                              "nodes": 2}  # fmt: skip
    planned = job.result["planned_cost"]
    assert (planned["compute"], planned["nodes"]) == ("Standard_NC6s_v3", 2)
    line = client.get("/jobs/estimate/?kind=train&epochs=3&backend=azureml"
                      "&vm_size=Standard_NC6s_v3&nodes=2").content.decode()  # fmt: skip
    assert planned["description"] in line, "the stored plan is the one the form showed"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Planned cost" in page
    assert planned["description"] in page
    assert "Actual cost" not in page, "nothing has run yet"
