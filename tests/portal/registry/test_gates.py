"""The gate: a candidate reaches staging only when it matches production on the same held-out set.

Gate jobs run for real (inline): both versions are evaluated with
``visionkit.evaluation`` on stored plates. A version with the production
weights passes; a model trained for seconds on four tiny plates fails and
stays a candidate. Production needs another person's approval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.datasets.services import create_dataset_from_folder
from portal.jobs.models import Job, Status
from portal.jobs.services import submit_job
from portal.registry import gates, services
from portal.registry.models import Evaluation, GateCheck, ModelVersion
from tests.portal.conftest import DEFAULT_MODEL, TINY_TRAINING

pytestmark = pytest.mark.django_db


def test_rules_are_read_from_settings_and_bad_ones_are_named(settings: Any) -> None:
    settings.VISIONKIT_GATE_METRICS = "root_f1:higher:0.01, length_smape:lower:2"
    assert gates.rules() == [
        gates.Rule("root_f1", True, 0.01), gates.Rule("length_smape", False, 2.0)
    ]  # fmt: skip
    for bad in ("root_f1:up:0.1", "root_f1:higher", "root_f1:higher:-1", "x:higher:y"):
        with pytest.raises(ImproperlyConfigured, match="metric:higher|lower:tolerance"):
            gates.rules(bad)


def test_compare_applies_each_rule_with_its_tolerance(settings: Any) -> None:
    settings.VISIONKIT_GATE_METRICS = "root_f1:higher:0.01,length_smape:lower:1.0"
    production = {"root_f1": 0.90, "length_smape": 8.0}
    passed, rows = gates.compare({"root_f1": 0.895, "length_smape": 8.9}, production)
    assert passed
    assert [r["passed"] for r in rows] == [True, True]
    passed, rows = gates.compare({"root_f1": 0.88, "length_smape": 7.0}, production)
    assert not passed
    assert [r["passed"] for r in rows] == [False, True]
    assert rows[0]["why"] == "needs >= 0.89"
    passed, rows = gates.compare({"root_f1": 0.95}, production)
    assert not passed
    assert rows[1]["why"] == "not measured for the candidate"
    assert gates.compare({"root_f1": 0.5, "length_smape": 50.0}, None)[0]


@pytest.fixture
def holdout(operator: User, plates_folder: Path, settings: Any) -> Any:
    settings.VISIONKIT_HOLDOUT_DATASET = "holdout"
    version, _ = create_dataset_from_folder(folder=plates_folder, name="holdout", user=operator)
    return version


def _run_gate(candidate: ModelVersion, operator: User, on_commit: Any) -> Job:
    with on_commit(execute=True):
        job = gates.submit_gate(candidate=candidate, user=operator)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error
    return job


def test_a_candidate_as_good_as_production_passes_and_is_staged(
    production_model: ModelVersion, holdout: Any, operator: User, approver: User, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    approver.email = "approver@example.org"
    approver.save()
    same = services.register_model_folder(folder=DEFAULT_MODEL, user=operator, name="root-unet",
                                          version="2")  # fmt: skip
    job = _run_gate(same, operator, django_capture_on_commit_callbacks)
    check = GateCheck.objects.get(candidate=same)
    assert check.passed
    assert check.baseline == production_model
    assert check.dataset == holdout
    assert job.result["staged"]
    same.refresh_from_db()
    assert same.stage == "staging"
    # both were evaluated on the held-out set; the comparison holds both numbers
    assert Evaluation.objects.filter(dataset=holdout).count() == 2
    row = next(r for r in check.comparison if r["metric"] == "root_f1")
    assert row["candidate"] == pytest.approx(row["production"])
    from django.core import mail

    assert mail.outbox
    assert "gate passed" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["approver@example.org"]
    # the API shows the gate with the version
    client = APIClient()
    client.force_authenticate(operator)
    detail = client.get(f"/api/models/{same.pk}/").json()
    assert detail["gate_checks"][0]["passed"] is True
    assert {r["metric"] for r in detail["gate_checks"][0]["comparison"]} >= {"root_f1"}

    # production: not by nobody, not by the registrant, yes by another approver
    with pytest.raises(services.RegistryError, match="nothing promotes itself"):
        services.promote(model_version=same, stage="production", reason="auto", user=None)
    same.registered_by = approver
    same.save()
    with pytest.raises(services.RegistryError, match="another approver must approve"):
        services.promote(model_version=same, stage="production", reason="mine", user=approver)
    settings.VISIONKIT_ALLOW_SELF_APPROVAL = True
    moved = services.promote(model_version=same, stage="production", reason="ok", user=approver)
    assert moved.stage == "production"


def test_a_worse_candidate_fails_its_gate_and_cannot_reach_staging(
    production_model: ModelVersion, holdout: Any, dataset: Any, operator: User, approver: User,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        train = submit_job(kind="train", user=operator, dataset=dataset,
                           parameters={**TINY_TRAINING, "epochs": 1})  # fmt: skip
    train.refresh_from_db()
    assert train.status == Status.SUCCEEDED, train.error
    worse = ModelVersion.objects.get(pk=train.result["model_version"])
    # the training pipeline queued the gate itself (a held-out set exists)
    gate_job = Job.objects.get(pk=train.result["gate_job"])
    assert gate_job.kind == "gate"
    assert gate_job.trigger == "pipeline"
    assert gate_job.status == Status.SUCCEEDED, gate_job.error
    check = GateCheck.objects.get(candidate=worse)
    assert not check.passed
    assert any(not row["passed"] for row in check.comparison)
    worse.refresh_from_db()
    assert worse.stage == "candidate"
    with pytest.raises(services.RegistryError, match="its gate failed on"):
        services.promote(model_version=worse, stage="staging", reason="try", user=approver)


def test_an_ungated_or_stale_gate_is_refused(
    production_model: ModelVersion, holdout: Any, operator: User, approver: User
) -> None:
    other = services.register_model_folder(folder=DEFAULT_MODEL, user=operator, name="root-unet",
                                           version="3")  # fmt: skip
    with pytest.raises(services.RegistryError, match="has not been gated"):
        services.promote(model_version=other, stage="staging", reason="try", user=approver)
    client = APIClient()
    client.force_authenticate(operator)
    answer = client.post(f"/api/models/{other.pk}/gate/")
    assert answer.status_code == 202, answer.content
    assert Job.objects.get(pk=answer.json()["id"]).kind == "gate"


def test_without_a_held_out_set_the_gate_says_how_to_get_one(
    production_model: ModelVersion, operator: User, settings: Any
) -> None:
    settings.VISIONKIT_HOLDOUT_DATASET = "nothing-by-this-name"
    client = APIClient()
    client.force_authenticate(operator)
    answer = client.post(f"/api/models/{production_model.pk}/gate/")
    assert answer.status_code == 400
    assert "nothing-by-this-name" in answer.json()["detail"]
