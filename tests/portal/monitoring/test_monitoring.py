"""Drift, live accuracy and alerts, on real predictions, to a real webhook server and mailbox.

The production model's drift reference is the features of synthetic plates;
plates like them do not drift; darker and blurred ones do and raise exactly
one alert per episode, posted with its evidence to an HTTP server the test
runs; plates like the reference again close the episode. Reviewed tips far
from the model's give the live-accuracy alert.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.monitoring import checks
from portal.monitoring.drift import NotEnoughData, feature_drift, reference_from_folder
from portal.monitoring.models import Alert, DriftReport
from portal.predictions.models import Prediction
from portal.predictions.reviews import save_review
from portal.predictions.services import create_prediction
from portal.registry.models import ModelVersion

pytestmark = pytest.mark.django_db

SCALE = 0.125
N = 10


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def webhook(settings: Any) -> Iterator[list[dict[str, Any]]]:
    """A local HTTP server that keeps every JSON body posted to it."""
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.VISIONKIT_ALERT_WEBHOOKS = [f"http://127.0.0.1:{server.server_port}/hook?token=s3"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    try:
        yield _Hook.received
    finally:
        server.shutdown()


def _plates(seed: int, n: int) -> list[np.ndarray]:
    from visionkit.synth import SynthConfig, generate_plate

    return [generate_plate(seed, SynthConfig().scaled(SCALE), index=i).cropped().image
            for i in range(n)]  # fmt: skip


def _predict(images: list[np.ndarray], user: User, tag: str) -> list[Prediction]:
    made = []
    for index, image in enumerate(images):
        ok, png = cv2.imencode(".png", image)
        assert ok
        made.append(create_prediction(image=png.tobytes(), image_name=f"{tag}-{index}.png",
                                      user=user))  # fmt: skip
    return made


@pytest.fixture
def monitored(production_model: ModelVersion, tmp_path: Path, settings: Any) -> ModelVersion:
    """Production with a reference of N synthetic plates; drift tested on the latest N."""
    folder = tmp_path / "reference"
    folder.mkdir()
    for index, image in enumerate(_plates(61, N)):
        cv2.imwrite(str(folder / f"plate-{index}.png"), image)
    production_model.reference_stats = reference_from_folder(folder)
    production_model.save()
    settings.VISIONKIT_DRIFT_WINDOW = N
    settings.VISIONKIT_DRIFT_MIN_PREDICTIONS = N
    return production_model


def test_the_feature_test_is_ks_up_to_1000_rows_and_wasserstein_beyond() -> None:
    rng = np.random.default_rng(0)
    same = feature_drift(rng.normal(0, 1, 200), rng.normal(0, 1, 200))
    assert same["test"].startswith("Kolmogorov-Smirnov")
    assert not same["drifted"]
    assert same["threshold"] == "p < 0.05"
    shifted = feature_drift(rng.normal(0, 1, 200), rng.normal(1, 1, 200))
    assert shifted["drifted"]
    assert shifted["p_value"] < 1e-6
    big = feature_drift(rng.normal(0, 1, 2000), rng.normal(0.5, 1, 300))
    assert big["test"].startswith("Wasserstein")
    assert big["drifted"]
    assert big["statistic"] == pytest.approx(0.5, abs=0.1)


def test_drifted_plates_raise_one_alert_per_episode_with_the_evidence(
    monitored: ModelVersion, operator: User, webhook: list[dict[str, Any]]
) -> None:
    with pytest.raises(NotEnoughData, match="drift is tested from"):
        checks.check_drift_now(monitored)
    _predict(_plates(62, N), operator, "like")
    stable = checks.check_drift_now(monitored)
    assert not stable.drifted, stable.features
    assert webhook == []

    darker_blurred = [cv2.GaussianBlur((img * 0.55).astype(np.uint8), (0, 0), 3)
                      for img in _plates(63, N)]  # fmt: skip
    _predict(darker_blurred, operator, "dark")
    report = checks.check_drift_now(monitored)
    assert report.drifted
    drifted = {f["feature"] for f in report.features if f["drifted"]}
    assert {"grey_mean", "sharpness"} <= drifted
    for feature in report.features:
        assert feature["test"].startswith("Kolmogorov-Smirnov")
        assert {"statistic", "p_value", "threshold"} <= set(feature)
    assert len(webhook) == 1
    event = webhook[0]
    # kept for docs/mlops.md's example (artifacts/ is not committed)
    shown = Path(__file__).resolve().parents[3] / "artifacts" / "monitoring"
    shown.mkdir(parents=True, exist_ok=True)
    (shown / "drift-alert.json").write_text(json.dumps(event, indent=1))
    assert event["event"] == "drift-alert"
    assert event["model_version_id"] == monitored.pk
    assert event["evidence"]["drift_report_id"] == report.pk
    assert {f["feature"] for f in event["evidence"]["features"]} >= drifted
    from django.core import mail

    assert len(mail.outbox) == 1
    assert "input drift" in mail.outbox[0].subject

    # the same episode: counted, not sent again
    checks.check_drift_now(monitored)
    assert len(webhook) == 1
    alert = Alert.objects.get()
    assert alert.checks == 2
    assert alert.delivered == {"email": "sent", "webhook 1": "sent"}

    # plates like the reference again: the episode closes
    _predict(_plates(64, N), operator, "again")
    assert not checks.check_drift_now(monitored).drifted
    alert.refresh_from_db()
    assert not alert.is_open
    assert DriftReport.objects.count() == 4

    client = APIClient()
    client.force_authenticate(operator)
    listed = client.get(f"/api/monitoring/drift/?model_version={monitored.pk}").json()
    assert listed["count"] == 4
    assert client.get("/api/monitoring/alerts/?open=true").json()["count"] == 0
    assert client.post("/api/monitoring/drift/", {}, format="json").status_code == 201


def test_reviewed_tips_far_from_the_models_raise_the_accuracy_alert(
    production_model: ModelVersion, operator: User, webhook: list[dict[str, Any]], settings: Any
) -> None:
    settings.VISIONKIT_ACCURACY_MIN_TIPS = 3
    settings.VISIONKIT_RETRAIN_REVIEWED_TIPS = 0
    for prediction in _predict(_plates(65, 2), operator, "review"):
        plants = [p for p in prediction.contract["plants"] if p.get("tip")]
        entries = [
            {"plant": p["plant"], "verdict": "moved", "tip": {"x": p["tip"]["x"] + 12,
                                                                "y": p["tip"]["y"]}}
            for p in plants
        ]  # fmt: skip
        save_review(prediction=prediction, entries=entries, base=0, user=operator)
    summary = checks.check_accuracy(production_model)
    assert summary["tips"] >= 3
    assert summary["within_1mm"] == 0.0  # 12 px at 1/8 scale is about 4.8 mm
    assert summary["alerting"]
    assert [e["event"] for e in webhook] == ["accuracy-alert"]
    assert webhook[0]["evidence"]["median_error_mm"] > 1.0
    client = APIClient()
    client.force_authenticate(operator)
    shown = client.get("/api/monitoring/accuracy/").json()
    assert shown["latest"]["tips"] == summary["tips"]
    assert shown["by_day"][0]["within_1mm"] == 0.0
