"""The monitoring page and the gate on a model's page, through Django's test client.

(tests/portal/browser/ opens them in Chromium.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.registry import services
from portal.registry.models import ModelVersion
from portal.serving.models import Deployment, DeploymentEvent
from tests.portal.conftest import DEFAULT_MODEL, pass_gate

pytestmark = pytest.mark.django_db


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_slots_trail_retraining_and_forms_by_role(
    production_model: ModelVersion, viewer: User, approver: User, operator: User
) -> None:
    page = _login(viewer).get("/monitoring/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "generation 1" in text
    assert "blue" in text
    assert "Continuous training" in text
    assert "No alerts" in text
    assert "Set traffic" not in text
    assert "Check drift now" not in text
    assert "Set traffic" in _login(approver).get("/monitoring/").content.decode()
    assert "Check drift now" in _login(operator).get("/monitoring/").content.decode()
    from portal.datasets.models import DatasetVersion
    from portal.registry.models import Evaluation

    held = DatasetVersion.objects.create(version="e" * 64, name="holdout", prefix="datasets/e")
    Evaluation.objects.create(model_version=production_model, dataset=held,
                              metrics={"root_f1": 0.9123, "tips_within_1mm": 0.95})  # fmt: skip
    shown = _login(viewer).get("/monitoring/").content.decode()
    assert "Evaluations on labelled data sets" in shown
    assert "0.912" in shown


def test_an_approver_sets_canary_traffic_from_the_page(
    production_model: ModelVersion, approver: User, operator: User
) -> None:
    second = services.register_model_folder(folder=DEFAULT_MODEL, user=operator,
                                            name="root-unet", version="2")  # fmt: skip
    pass_gate(second)
    services.promote(model_version=second, stage="staging", reason="t", user=approver)
    client = _login(approver)
    answer = client.post("/monitoring/traffic/root-unet/",
                         {"version": second.pk, "mode": "canary", "share": "25",
                          "reason": "ten per cent first"}, follow=True)  # fmt: skip
    assert answer.status_code == 200
    deployment = Deployment.objects.get(name="root-unet")
    assert (deployment.challenger, deployment.mode, deployment.share) == (second, "canary", 0.25)
    assert DeploymentEvent.objects.filter(action="traffic").get().by == approver
    refused = client.post("/monitoring/traffic/root-unet/",
                          {"version": production_model.pk, "mode": "shadow", "share": "10",
                           "reason": "x"}, follow=True)  # fmt: skip
    assert "only a staging version" in refused.content.decode()


def test_checking_drift_without_a_reference_says_how_to_get_one(
    production_model: ModelVersion, operator: User
) -> None:
    answer = _login(operator).post(f"/monitoring/drift/{production_model.pk}/", follow=True)
    assert "has no drift reference" in answer.content.decode()


def test_a_models_page_shows_its_gate_comparison(
    production_model: ModelVersion, operator: User, viewer: User, settings: Any
) -> None:
    second = services.register_model_folder(folder=DEFAULT_MODEL, user=operator,
                                            name="root-unet", version="2")  # fmt: skip
    page = _login(operator).get(f"/models/{second.pk}/").content.decode()
    assert "Not gated yet" in page
    assert "Run the gate" in page
    pass_gate(second)
    page = _login(viewer).get(f"/models/{second.pk}/").content.decode()
    assert "Passed" in page
    assert "root_f1" in page
    assert "Run the gate" not in page
    settings.VISIONKIT_HOLDOUT_DATASET = "nothing-called-this"
    answer = _login(operator).post(f"/models/{second.pk}/gate/", follow=True)
    assert "nothing-called-this" in answer.content.decode()
