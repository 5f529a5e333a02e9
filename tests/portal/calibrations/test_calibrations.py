"""Calibrations fitted in the portal: errors per point, collinear warnings, saved and used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.calibrations import services
from portal.calibrations.models import SavedCalibration
from portal.common.errors import Conflict, PortalError
from portal.predictions.services import create_prediction

pytestmark = pytest.mark.django_db

#: A deck: 0.05 mm per pixel, rotated by a few degrees, offset on the deck (metres).
_A = ((4.99e-5, -2.6e-6, 0.120), (2.6e-6, 4.99e-5, 0.060))


def _robot(x: float, y: float) -> tuple[float, float]:
    return (_A[0][0] * x + _A[0][1] * y + _A[0][2], _A[1][0] * x + _A[1][1] * y + _A[1][2])


def _points(pixels: list[tuple[float, float]], nudge: float = 0.0) -> list[dict[str, Any]]:
    out = []
    for i, (x, y) in enumerate(pixels):
        rx, ry = _robot(x, y)
        out.append({"x": x, "y": y, "robot_x": rx + (nudge if i == 0 else 0.0),
                    "robot_y": ry, "robot_z": 0.057})  # fmt: skip
    return out


CORNERS = [(300.0, 250.0), (3800.0, 260.0), (3790.0, 2800.0), (320.0, 2780.0)]


def test_a_fit_gives_each_points_error_and_flags_a_bad_one() -> None:
    fitted = services.fit(points=_points(CORNERS), frame="ot2")
    assert max(fitted.errors_mm) < 0.01
    assert fitted.warnings == []
    off = services.fit(points=_points(CORNERS, nudge=0.006), frame="ot2")  # a 6 mm typo
    assert max(off.errors_mm) > 1.0
    assert any("mm off (more than 0.5 mm): check its robot coordinates" in w for w in off.warnings)


def test_nearly_collinear_points_are_warned_about_and_collinear_refused() -> None:
    nearly = [(300.0, 1000.0), (2000.0, 1040.0), (3800.0, 1000.0), (1200.0, 1020.0)]
    fitted = services.fit(points=_points(nearly), frame="ot2")
    assert any("nearly on one line" in w for w in fitted.warnings)
    with pytest.raises(PortalError, match="one line"):
        services.fit(points=_points([(0, 0), (100, 100), (200, 200)]), frame="ot2")
    with pytest.raises(PortalError, match="point 2: give its image x, y"):
        services.fit(points=[*_points(CORNERS[:1]), {"x": 1}], frame="ot2")


def test_a_saved_calibration_names_robot_coordinates_in_predictions(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    saved = services.save(name="deck-left", points=_points(CORNERS), frame="ot2", user=operator)
    assert saved.residual_mm < 0.01
    with pytest.raises(Conflict, match="called deck-left already"):
        services.save(name="deck-left", points=_points(CORNERS), frame="ot2", user=operator)
    with pytest.raises(Conflict, match="shipped preset"):
        services.save(name="ot2", points=_points(CORNERS), frame="ot2", user=operator)
    with pytest.raises(PortalError, match="lower-case letters"):
        services.save(name="Deck Left", points=_points(CORNERS), frame="ot2", user=operator)

    name, data = synthetic_plate
    made = create_prediction(image=data, image_name=name, user=operator, calibration="deck-left")
    plant = next(p for p in made.contract["plants"] if p["tip"])
    expected = _robot(plant["tip"]["x"], plant["tip"]["y"])
    assert plant["robot"]["x"] == pytest.approx(expected[0], abs=1e-5)
    assert plant["robot"]["y"] == pytest.approx(expected[1], abs=1e-5)
    with pytest.raises(PortalError, match="unknown calibration 'nope'; the calibrations are: ot2"):
        create_prediction(image=data, image_name=name, user=operator, calibration="nope")


def test_the_page_fits_shows_errors_and_saves_for_operators_only(
    operator: User, viewer: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    create_prediction(image=data, image_name=name, user=operator)
    client = Client()
    client.force_login(operator)
    posted = {"points": json.dumps(_points(CORNERS)), "frame": "ot2"}
    fitted = client.post("/calibrations/", {**posted, "action": "fit"})
    assert fitted.status_code == 200
    assert "RMS residual 0.00" in fitted.content.decode()
    saved = client.post("/calibrations/", {**posted, "action": "save", "name": "deck-a"},
                        follow=True)  # fmt: skip
    assert "calibration deck-a saved" in saved.content.decode()
    assert SavedCalibration.objects.filter(name="deck-a").exists()
    assert '<option value="deck-a">' in client.get("/predictions/new/").content.decode()

    few = client.post("/calibrations/", {"points": json.dumps(_points(CORNERS[:2])),
                                         "frame": "ot2", "action": "fit"})  # fmt: skip
    assert few.status_code == 400
    assert "the calibration was not fitted" in few.content.decode()

    watcher = Client()
    watcher.force_login(viewer)
    refused = watcher.post("/calibrations/", {**posted, "action": "save", "name": "deck-b"})
    assert refused.status_code == 400
    assert "needs the operator role" in refused.content.decode()
    assert not SavedCalibration.objects.filter(name="deck-b").exists()
