"""Fit and save calibrations: fiducials clicked on a plate paired with typed robot coordinates.

:func:`fit` returns the calibration, each point's error in millimetres and a
warning when the points are nearly on one line (the fit is then poorly
conditioned across the line). :func:`save` stores it under a name that
predictions, batch jobs and exports accept beside the shipped presets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import IntegrityError, transaction

from portal.calibrations.models import SavedCalibration
from portal.common.errors import Conflict, PortalError

if TYPE_CHECKING:
    from portal.accounts.models import User
    from visionkit.calibration import Calibration

__all__ = ["Fit", "calibration_names", "fit", "resolve", "save"]


@dataclass
class Fit:
    """A fitted calibration, each point's error (mm) and what to watch for."""

    calibration: Calibration
    errors_mm: list[float]
    warnings: list[str]


def _arrays(points: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    problems = []
    image, robot = [], []
    for number, point in enumerate(points, start=1):
        try:
            image.append([float(point["x"]), float(point["y"])])
            robot.append([float(point["robot_x"]), float(point["robot_y"]),
                          float(point.get("robot_z") or 0.0)])  # fmt: skip
        except (KeyError, TypeError, ValueError):
            problems.append(f"point {number}: give its image x, y and robot x, y (metres)")
    if problems:
        raise PortalError("the calibration was not fitted: " + "; ".join(problems),
                          problems=problems)  # fmt: skip
    return np.asarray(image, float), np.asarray(robot, float)


def fit(*, points: list[dict[str, Any]], frame: str) -> Fit:
    """Fit the points; each one's error, and warnings (nearly collinear, a point off).

    The numbers and warnings are :func:`visionkit.calibration_fit.fit_points`'s, as
    ``visionkit calibrate`` prints them.

    Raises:
        PortalError: fewer than three points, missing values, points on one line,
            robot points out of reach, or pairs that disagree (the library's reason).
    """
    from visionkit.calibration_fit import fit_points
    from visionkit.exceptions import CalibrationError

    image, robot = _arrays(points)
    try:
        report = fit_points(image, robot, frame=frame or "robot")
    except CalibrationError as exc:
        raise PortalError(f"the calibration was not fitted: {exc}") from exc
    return Fit(calibration=report.calibration, errors_mm=report.errors_mm,
               warnings=report.warnings)  # fmt: skip


def save(
    *, name: str, points: list[dict[str, Any]], frame: str, user: User | None
) -> SavedCalibration:
    """Fit and store the calibration as ``name``.

    Raises:
        PortalError: the fit failed, or the name is not a slug.
        Conflict: the name is taken (a preset's or a saved one's).
    """
    from django.utils.text import slugify

    from visionkit.calibration import preset_names

    if not name or slugify(name) != name:
        raise PortalError(f"name {name!r}: use lower-case letters, digits and hyphens")
    if name in preset_names():
        raise Conflict(f"{name} is a shipped preset; choose another name")
    fitted = fit(points=points, frame=frame)
    try:
        with transaction.atomic():
            return SavedCalibration.objects.create(
                name=name, frame=fitted.calibration.frame, data=fitted.calibration.to_dict(),
                points=points, residual_mm=float(fitted.calibration.residual_mm or 0.0),
                created_by=user,
            )  # fmt: skip
    except IntegrityError as exc:
        raise Conflict(f"a calibration is called {name} already; choose another name") from exc


def calibration_names() -> list[str]:
    """Every name a prediction may give: the shipped presets, then the saved calibrations."""
    from visionkit.calibration import preset_names

    return preset_names() + list(SavedCalibration.objects.values_list("name", flat=True))


def resolve(name: str | None) -> Calibration | None:
    """A calibration by name: a shipped preset or a saved one (never a file from user input).

    Raises:
        PortalError: no preset or saved calibration has that name.
    """
    from visionkit.calibration import Calibration, preset_names

    if not name:
        return None
    if name in preset_names():
        return Calibration.preset(name)
    saved = SavedCalibration.objects.filter(name=name).first()
    if saved is None:
        known = ", ".join(calibration_names())
        raise PortalError(f"unknown calibration {name!r}; the calibrations are: {known}")
    return Calibration.from_dict(saved.data, source=f"calibration {name}")
