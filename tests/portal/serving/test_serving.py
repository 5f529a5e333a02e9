"""Blue/green serving: slots and the generation counter, the smoke check, rollback, routing.

Everything runs for real: the smoke check predicts the synthetic reference
plate with the version being switched in, predictions go through the API,
canary and shadow comparisons run the other model in (inline) django-q2 tasks.
"""

from __future__ import annotations

from typing import Any

import cv2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.jobs.models import Status
from portal.jobs.services import submit_job
from portal.predictions import loader
from portal.registry import services
from portal.registry.models import ModelVersion
from portal.serving.models import Comparison, Deployment, DeploymentEvent
from portal.serving.router import route
from tests.portal.conftest import DEFAULT_MODEL, TINY_TRAINING, pass_gate

pytestmark = pytest.mark.django_db


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _staged(operator: User, approver: User, version: str) -> ModelVersion:
    """The shipped weights registered again as ``version``, gated and in staging."""
    candidate = services.register_model_folder(
        folder=DEFAULT_MODEL, user=operator, name="root-unet", version=version
    )
    pass_gate(candidate)
    return services.promote(model_version=candidate, stage="staging", reason="t", user=approver)


def _plate() -> SimpleUploadedFile:
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(5, SynthConfig().scaled(0.25), index=0).cropped()
    ok, encoded = cv2.imencode(".png", plate.image)
    assert ok
    return SimpleUploadedFile("plate.png", encoded.tobytes(), "image/png")


def _predict(user: User, **fields: Any) -> dict[str, Any]:
    answer = _client(user).post("/api/predictions/", {"image": _plate(), **fields},
                                format="multipart")  # fmt: skip
    assert answer.status_code == 201, answer.content
    return dict(answer.json())


def test_promotion_switches_slots_and_rollback_switches_back_without_a_new_smoke(
    production_model: ModelVersion, operator: User, approver: User
) -> None:
    first = Deployment.objects.get(name="root-unet")
    assert (first.live_slot, first.blue_id, first.generation) == ("blue", production_model.pk, 1)
    second = _staged(operator, approver, "2")
    services.promote(model_version=second, stage="production", reason="better", user=approver)
    deployment = Deployment.objects.get(name="root-unet")
    assert (deployment.live_slot, deployment.green_id) == ("green", second.pk)
    assert (deployment.idle_id, deployment.generation) == (production_model.pk, 2)
    promoted = DeploymentEvent.objects.filter(action="promote").first()
    assert promoted is not None
    assert promoted.smoke["passed"]
    assert promoted.smoke["plants"] == 5
    assert all(tip["distance_mm"] <= 1.0 for tip in promoted.smoke["tips"])
    assert route().version == second

    restored = services.rollback(name="root-unet", reason="misses", user=approver)
    assert restored == production_model
    deployment.refresh_from_db()
    assert (deployment.live_slot, deployment.generation) == ("blue", 3)
    back = DeploymentEvent.objects.filter(action="rollback").get()
    assert back.smoke is None  # v1 was still in the idle slot: no new check needed
    assert back.by == approver
    assert route().version == production_model


def test_a_version_that_fails_the_smoke_check_is_refused_and_production_stays(
    production_model: ModelVersion, operator: User, approver: User, dataset: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        job = submit_job(kind="train", user=operator, dataset=dataset,
                         parameters={**TINY_TRAINING, "epochs": 1})  # fmt: skip
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error
    weak = ModelVersion.objects.get(pk=job.result["model_version"])
    pass_gate(weak)
    services.promote(model_version=weak, stage="staging", reason="t", user=approver)
    with pytest.raises(services.RegistryError, match="failed the smoke check") as info:
        services.promote(model_version=weak, stage="production", reason="t", user=approver)
    assert "production is unchanged" in str(info.value)
    weak.refresh_from_db()
    assert weak.stage == "staging"
    assert route().version == production_model
    refused = DeploymentEvent.objects.get(action="smoke-failed")
    assert refused.model_version == weak
    assert refused.smoke["passed"] is False
    assert Deployment.objects.get(name="root-unet").generation == 1


def test_each_request_reads_the_generation_another_process_wrote(
    production_model: ModelVersion, operator: User, approver: User
) -> None:
    second = _staged(operator, approver, "2")
    assert route().version == production_model
    # another process switches (the same UPDATE the switch makes): the next request follows
    Deployment.objects.filter(name="root-unet").update(green=second, live_slot="green",
                                                        generation=2)  # fmt: skip
    assert route().version == second
    assert _predict(operator)["model_version"] == second.pk


def test_model_references_and_station_settings_choose_the_version(
    production_model: ModelVersion, operator: User, approver: User, settings: Any
) -> None:
    second = _staged(operator, approver, "2")
    assert route(model=str(second.pk)).version == second
    assert route(model="root-unet:2").version == second
    assert route(model="root-unet@staging").version == second
    assert route(model="root-unet").version == production_model
    assert _predict(operator, model="root-unet:2")["model_version"] == second.pk
    settings.VISIONKIT_STATION_MODELS = ["bay-2=root-unet@staging"]
    answer = _predict(operator, station="bay-2")
    assert (answer["model_version"], answer["station"], answer["served_as"]) == (
        second.pk, "bay-2", "station"
    )  # fmt: skip
    assert _predict(operator, station="bay-1")["model_version"] == production_model.pk
    bad = _client(operator).post("/api/predictions/", {"image": _plate(), "model": "root-unet:9"},
                                 format="multipart")  # fmt: skip
    assert bad.status_code == 400
    assert "no model root-unet version 9" in bad.json()["detail"]


def test_models_held_in_memory_are_bounded(
    production_model: ModelVersion, operator: User, approver: User, settings: Any
) -> None:
    second = _staged(operator, approver, "2")
    settings.VISIONKIT_MAX_LOADED_MODELS = 1
    loader.clear()
    held = loader.get_predictor(production_model)
    loader.get_predictor(second)
    assert loader.loaded_versions() == [second.pk]
    assert held.model is not None  # a request holding the old one finishes on it
    assert loader.unload(second)
    assert loader.loaded_versions() == []


@pytest.mark.parametrize("mode", ["canary", "shadow"])
def test_canary_and_shadow_record_tip_agreement_and_latency(
    mode: str, production_model: ModelVersion, operator: User, approver: User,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    second = _staged(operator, approver, "2")
    answer = _client(approver).post(
        "/api/deployments/root-unet/traffic/",
        {"mode": mode, "share": 1.0, "version": second.pk, "reason": "try it"}, format="json",
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    with django_capture_on_commit_callbacks(execute=True):
        served = _predict(operator)
    expected = second if mode == "canary" else production_model
    assert served["model_version"] == expected.pk
    comparison = Comparison.objects.get()
    assert comparison.mode == mode
    assert (comparison.production, comparison.challenger) == (production_model, second)
    assert comparison.tips_compared >= 3  # the tips this small plate gives
    assert comparison.agreement == 1.0  # the same weights agree on every tip
    assert comparison.production_ms is not None
    assert comparison.challenger_ms is not None
    shown = _client(operator).get("/api/deployments/root-unet/").json()
    assert shown["comparisons"]["comparisons"] == 1
    assert shown["mode"] == mode


def test_traffic_is_only_for_a_staging_version(
    production_model: ModelVersion, approver: User, operator: User
) -> None:
    answer = _client(approver).post(
        "/api/deployments/root-unet/traffic/",
        {"mode": "canary", "share": 0.5, "version": production_model.pk, "reason": "x"},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 409
    refused = _client(operator).post("/api/deployments/root-unet/traffic/",
                                     {"mode": "off", "reason": "x"}, format="json")  # fmt: skip
    assert refused.status_code == 403
