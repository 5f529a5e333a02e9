"""The monitoring page in Chromium: an alert, the drift table and charts, shadow traffic set.

See ``test_plate_pages.py`` for the browser set-up; screenshots go to ``artifacts/browser/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from portal.accounts.models import User
from portal.monitoring.checks import check_drift_now
from portal.monitoring.drift import reference_from_folder
from portal.predictions.services import create_prediction
from portal.registry import services
from portal.registry.models import ModelVersion
from portal.serving.models import Deployment
from tests.portal.browser.test_plate_pages import CHROMIUM, _axe, _login, _shot
from tests.portal.browser.test_plate_pages import browser as browser
from tests.portal.browser.test_plate_pages import page as page
from tests.portal.conftest import DEFAULT_MODEL, pass_gate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

N = 8


def _plates(seed: int) -> list[np.ndarray]:
    from visionkit.synth import SynthConfig, generate_plate

    return [generate_plate(seed, SynthConfig().scaled(0.125), index=i).cropped().image
            for i in range(N)]  # fmt: skip


def _predict(images: list[np.ndarray], user: User, tag: str) -> None:
    for index, image in enumerate(images):
        ok, png = cv2.imencode(".png", image)
        assert ok
        create_prediction(image=png.tobytes(), image_name=f"{tag}-{index}.png", user=user)


def test_an_approver_sees_the_drift_alert_and_puts_a_staging_version_in_shadow(
    page: Any, live_server: Any, production_model: ModelVersion, operator: User,
    approver: User, tmp_path: Path, settings: Any,
) -> None:  # fmt: skip
    settings.VISIONKIT_DRIFT_WINDOW = settings.VISIONKIT_DRIFT_MIN_PREDICTIONS = N
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    folder = tmp_path / "reference"
    folder.mkdir()
    for index, image in enumerate(_plates(61)):
        cv2.imwrite(str(folder / f"p{index}.png"), image)
    production_model.reference_stats = reference_from_folder(folder)
    production_model.save()
    _predict(_plates(62), operator, "like")
    check_drift_now(production_model)
    _predict([(img * 0.55).astype(np.uint8) for img in _plates(63)], operator, "dark")
    check_drift_now(production_model)
    staging = services.register_model_folder(folder=DEFAULT_MODEL, user=operator,
                                             name="root-unet", version="2")  # fmt: skip
    pass_gate(staging)
    services.promote(model_version=staging, stage="staging", reason="gate passed", user=approver)

    base = live_server.url
    _login(page, base, "approver")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Monitoring").click()
    page.wait_for_url(f"{base}/monitoring/")
    alerts = page.locator("table.data").first.inner_text()
    assert "input drift" in alerts
    assert "open" in alerts
    assert "Kolmogorov-Smirnov" in page.content()
    page.wait_for_function("document.querySelectorAll('canvas[data-chart]').length === 6")
    form = page.locator("form", has_text="Set traffic")
    form.get_by_label("Staging version").select_option(label="v2")
    form.get_by_label("Mode").select_option("shadow")
    form.get_by_label("Share of requests (%)").fill("20")
    form.get_by_label("Reason").fill("compare on live plates")
    form.get_by_role("button", name="Set traffic").click()
    page.wait_for_selector(".messages li.success")
    deployment = Deployment.objects.get(name="root-unet")
    assert (deployment.challenger_id, deployment.mode, deployment.share) == (
        staging.pk, "shadow", 0.2
    )  # fmt: skip
    assert "v2 in shadow mode" in page.locator("#deploy-heading ~ article").first.inner_text()
    _axe(page, "monitoring")
    _shot(page, "monitoring")
