"""Registry and jobs pages in Chromium: promote as an approver, no promote as a viewer, a job run.

See ``test_plate_pages.py`` for the browser set-up; screenshots go to ``artifacts/browser/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.accounts.models import User
from portal.jobs.models import Job
from portal.registry import services
from portal.registry.models import ModelVersion
from tests.portal.browser.test_plate_pages import CHROMIUM, _axe, _login, _shot
from tests.portal.browser.test_plate_pages import browser as browser
from tests.portal.browser.test_plate_pages import page as page
from tests.portal.conftest import DEFAULT_MODEL, pass_gate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def candidate(operator: User, production_model: ModelVersion) -> ModelVersion:
    """Version 7, registered by the operator and gated against production (passed)."""
    version = services.register_model_folder(
        folder=DEFAULT_MODEL, user=operator, name="root-unet", version="7"
    )
    pass_gate(version)
    return version


def test_an_approver_promotes_a_candidate_knowing_what_changes(
    page: Any, live_server: Any, approver: User, production_model: Any, candidate: ModelVersion
) -> None:
    base = live_server.url
    _login(page, base, "approver")
    page.goto(f"{base}/models/")
    _axe(page, "models")
    _shot(page, "models")
    page.get_by_role("link", name="root-unet v7").click()
    staging = page.locator("form.move", has_text="To staging")
    staging.get_by_label("Reason (kept in the audit trail)").fill("scored better on plate 12")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Move to staging").click()
    page.wait_for_selector(".messages li.success")
    assert "root-unet v7 is now in staging" in page.locator(".messages").inner_text()
    assert dialogs, "no confirmation was asked"
    assert "moves from candidate to staging" in dialogs[0]

    effect = page.locator("form.move", has_text="To production").inner_text()
    assert "v1, in production now, is archived" in effect
    page.locator("form.move", has_text="To production").get_by_label(
        "Reason (kept in the audit trail)").fill("ship it")  # fmt: skip
    page.get_by_role("button", name="Move to production").click()
    page.wait_for_selector(".messages li.success")
    candidate.refresh_from_db()
    assert candidate.stage == "production"
    trail = page.locator("table.data").last.inner_text()
    assert "ship it" in trail
    assert "scored better on plate 12" in trail
    _axe(page, "model version")
    _shot(page, "model-version")


def test_a_viewer_sees_versions_but_no_promote_or_rollback(
    page: Any, live_server: Any, viewer: User, production_model: Any
) -> None:
    base = live_server.url
    _login(page, base, "viewer")
    page.goto(f"{base}/models/{production_model.pk}/")
    assert page.get_by_role("heading", name="Audit trail").count() == 1
    assert page.get_by_role("button", name="Roll back").count() == 0
    assert page.locator("form.move").count() == 0


def test_an_operator_starts_a_small_training_job_and_sees_it_finish(
    page: Any, live_server: Any, operator: User, dataset: Any
) -> None:
    base = live_server.url
    _login(page, base, "operator")
    page.goto(f"{base}/jobs/")
    _axe(page, "jobs")
    page.get_by_label("Epochs").fill("1")
    page.get_by_label("Patches per epoch").fill("8")
    page.get_by_label("Patch size (px)").fill("64")
    page.get_by_label("Batch size").fill("8")
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#job-status[data-status='succeeded']", timeout=180_000)
    job = Job.objects.get()
    assert job.status == "succeeded", job.error
    assert "registered" in page.locator("#job-status").inner_text()
    assert job.result_model is not None
    _shot(page, "job")

    page.goto(f"{base}/jobs/")
    page.get_by_label("Epochs").fill("0")
    page.get_by_role("button", name="Start").click()  # the browser checks the range first
    assert page.get_by_label("Epochs").evaluate("e => e.validationMessage")
    assert page.url.endswith("/jobs/")
    assert Job.objects.count() == 1


def test_a_scientist_reads_an_experiment_by_condition(
    page: Any, live_server: Any, viewer: User, operator: User, production_model: Any
) -> None:
    import cv2

    from portal.predictions.services import create_prediction
    from tests.portal.predictions.test_experiments import NAMES
    from visionkit.synth import SynthConfig, generate_plate

    for index, name in enumerate(NAMES):
        plate = generate_plate(5, SynthConfig(), index=index)
        ok, data = cv2.imencode(".png", plate.image)
        assert ok
        create_prediction(image=data.tobytes(), image_name=name, user=operator)
    base = live_server.url
    _login(page, base, "viewer")
    page.goto(f"{base}/experiments/")
    page.get_by_role("link", name="77-2-ROOT1").click()
    assert page.locator("#plant-table tbody tr").count() > 0
    _axe(page, "experiment")
    _shot(page, "experiment")


def test_an_operator_clicks_fiducials_types_robot_points_fits_and_saves(
    page: Any, live_server: Any, operator: User, production_model: Any
) -> None:
    import json

    import cv2

    from portal.calibrations.models import SavedCalibration
    from portal.predictions.services import create_prediction
    from tests.portal.calibrations.test_calibrations import _robot
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(3, SynthConfig().scaled(0.25))
    ok, data = cv2.imencode(".png", plate.image)
    assert ok
    create_prediction(image=data.tobytes(), image_name="deck.png", user=operator)
    base = live_server.url
    _login(page, base, "operator")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/calibrations/")
    image = page.locator("#calib-img")
    image.wait_for()
    box = image.bounding_box()
    assert box is not None
    for fx, fy in ((0.1, 0.1), (0.9, 0.12), (0.88, 0.9), (0.12, 0.88)):
        image.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    points = json.loads(page.locator("#points-json").input_value())
    assert len(points) == 4
    for number, point in enumerate(points, start=1):
        rx, ry = _robot(point["x"], point["y"])
        page.get_by_label(f"point {number} robot x").fill(f"{rx:.6f}")
        page.get_by_label(f"point {number} robot y").fill(f"{ry:.6f}")
    page.get_by_role("button", name="Fit").click()
    assert "RMS residual 0.0" in page.locator("main").inner_text()
    page.locator("#points tbody tr").nth(3).wait_for()  # drawn once the image has loaded
    assert page.locator("#points tbody tr").count() == 4, errors
    page.get_by_label("Name to save it under").fill("deck-left")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".messages li.success")
    assert SavedCalibration.objects.filter(name="deck-left").exists()
    _axe(page, "calibration")
    _shot(page, "calibration")
