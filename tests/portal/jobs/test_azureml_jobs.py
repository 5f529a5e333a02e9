"""Training jobs with backend azureml, driven through the fake MLClient, register back here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portal.accounts.models import User
from portal.common.errors import PortalError
from portal.jobs import services
from portal.jobs.azureml import estimate_for
from portal.jobs.models import Job, Status
from portal.jobs.tasks import run_job
from visionkit.azureml.testing import FakeJob, FakeMLClient

pytestmark = pytest.mark.django_db
pytest.importorskip("azure.ai.ml")

FAKE = FakeMLClient()
AZURE = {"backend": "azureml", "vm_size": "Standard_NC24ads_A100_v4", "epochs": 2,
         "patches_per_epoch": 16}  # fmt: skip


def fake_client(config: Any) -> FakeMLClient:
    """The client factory the settings name in these tests."""
    return FAKE


def _tiny_model(job: FakeJob, folder: Path) -> None:
    from tests.helpers.models import save_tiny_unet

    save_tiny_unet(folder / "best")


@pytest.fixture(autouse=True)
def _fake(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SUBSCRIPTION", "RESOURCE_GROUP", "WORKSPACE"):  # a workspace, as in Azure
        monkeypatch.setenv(f"VISIONKIT_AZUREML_{name}", f"test-{name.lower()}")
    settings.VISIONKIT_AZUREML_CLIENT = "tests.portal.jobs.test_azureml_jobs:fake_client"
    settings.VISIONKIT_AZUREML_POLL_S = 0.0
    FAKE.__init__(outputs=_tiny_model)  # type: ignore[misc]


def test_an_azureml_training_job_registers_its_model_with_cost(
    operator: User, dataset: Any
) -> None:
    job = services.submit_job(kind="train", user=operator, dataset=dataset, parameters=AZURE,
                              queue=False)  # fmt: skip
    run_job(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == Status.SUCCEEDED, job.error
    ((name, submitted),) = FAKE.submitted.items()
    assert "--epochs 2 --patches-per-epoch 16" in submitted.entity.command
    data = Path(submitted.entity.inputs["data"].path)  # the fake checked it existed (uploaded)
    assert data.parts[-2:] == (f"job-{job.pk}", "data")
    assert job.result["azureml_job"] == name
    cost = job.result["cost"]
    assert cost["compute"] == "Standard_NC24ads_A100_v4"
    assert cost["usd"] >= 0
    assert job.result["planned_cost"]["compute"] == "Standard_NC24ads_A100_v4"
    assert job.result_model is not None
    assert job.result_model.stage == "candidate"
    assert job.result_model.name == "tiny-unet"
    assert "registered tiny-unet" in job.log_tail


def test_a_failed_azure_job_fails_the_portal_job_and_registers_nothing(
    operator: User, dataset: Any
) -> None:
    FAKE.outcome = "Failed"
    job = services.submit_job(kind="train", user=operator, dataset=dataset, parameters=AZURE,
                              queue=False)  # fmt: skip
    run_job(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == Status.FAILED
    assert "Failed" in job.error
    assert job.result_model is None


def test_a_bad_backend_is_refused_before_queueing(operator: User, dataset: Any) -> None:
    with pytest.raises(PortalError, match="backend must be one of local, azureml"):
        services.submit_job(kind="train", user=operator, dataset=dataset,
                            parameters={"backend": "gcp"})  # fmt: skip
    with pytest.raises(PortalError, match="nodes"):
        services.submit_job(kind="train", user=operator, dataset=dataset,
                            parameters={"backend": "azureml", "nodes": 0})  # fmt: skip


def test_the_estimate_before_submitting_follows_the_vm_size() -> None:
    a100 = estimate_for({**AZURE, "time_limit": 60})
    t4 = estimate_for({**AZURE, "time_limit": 60, "vm_size": "Standard_NC4as_T4_v3"})
    assert a100["usd"] > t4["usd"] > 0
    assert estimate_for({"epochs": 2})["compute"] == "local-cpu"


def test_an_azureml_job_is_refused_where_no_workspace_is_configured(
    operator: User, dataset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISIONKIT_AZUREML_WORKSPACE")
    with pytest.raises(
        PortalError, match="Azure ML is not configured here: set VISIONKIT_AZUREML_WORKSPACE"
    ):
        services.submit_job(kind="train", user=operator, dataset=dataset, parameters=AZURE)
