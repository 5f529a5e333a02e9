"""How good a calibration fit is: each fiducial's error in mm, the mean, and what to watch for.

:func:`fit_points` fits :class:`~visionkit.calibration.Calibration` from
fiducial pairs and reports, beside the calibration, where the fit puts each
fiducial relative to its measured robot position. Two things deserve a
warning even when the fit is accepted:

- points *nearly* on one line (the smallest spread of the image points under
  :data:`NEARLY_COLLINEAR_RATIO` of the largest): the map holds along the line
  and is a guess across it;
- a point more than :data:`POINT_WARN_MM` off: usually a typo or a mis-click,
  and a tip near it would be missed by that much.

``visionkit calibrate`` and the portal's calibration page both call it, so a
person sees the same numbers wherever they calibrate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from visionkit.calibration import Calibration
from visionkit.exceptions import CalibrationError

__all__ = [
    "NEARLY_COLLINEAR_RATIO",
    "POINT_WARN_MM",
    "FitReport",
    "fit_points",
    "read_points_csv",
]

#: Below this ratio of the image points' spread across and along their main line they are
#: "nearly collinear".
NEARLY_COLLINEAR_RATIO = 0.1
#: A fiducial whose fitted position is further than this from its robot point is flagged.
POINT_WARN_MM = 0.5

_COLUMNS = ("image_x", "image_y", "robot_x", "robot_y")


@dataclass
class FitReport:
    """A fitted calibration, each point's error (mm), their mean, and warnings."""

    calibration: Calibration
    errors_mm: list[float]
    warnings: list[str] = field(default_factory=list)

    @property
    def mean_mm(self) -> float:
        """The mean of the points' errors, mm."""
        return float(np.mean(self.errors_mm)) if self.errors_mm else 0.0


def fit_points(
    image: Sequence[Sequence[float]] | np.ndarray,
    robot: Sequence[Sequence[float]] | np.ndarray,
    *,
    frame: str = "robot",
) -> FitReport:
    """Fit pixel -> robot from fiducial pairs and report each point's error.

    Args:
        image: N image points ``[x, y]`` in pixels.
        robot: the N robot points ``[x, y]`` or ``[x, y, z]`` in metres.
        frame: the robot frame's name (``ot2`` uses the OT-2 deck's reach).

    Raises:
        CalibrationError: as :meth:`Calibration.fit` (too few points, on one line,
            out of reach, pairs that disagree by more than 5 mm).
    """
    src = np.asarray(image, dtype=float)
    dst = np.asarray(robot, dtype=float)
    calibration = Calibration.fit(src, dst, frame=frame)
    placed = np.asarray(calibration.to_robot_many(src))[:, :2]
    errors = (np.linalg.norm(placed - dst[:, :2], axis=1) * 1000.0).round(3).tolist()
    warnings = []
    spread = np.linalg.svd(src - src.mean(axis=0), compute_uv=False)
    if spread[-1] < NEARLY_COLLINEAR_RATIO * spread[0]:
        warnings.append(
            "the points lie nearly on one line: the fit is unreliable across it; "
            "add a point away from that line"
        )
    for number, error in enumerate(errors, start=1):
        if error > POINT_WARN_MM:
            warnings.append(
                f"point {number} is {error:.2f} mm off (more than {POINT_WARN_MM} mm): check "
                "its robot coordinates, or measure it again"
            )
    return FitReport(calibration=calibration, errors_mm=errors, warnings=warnings)


def read_points_csv(text: str, *, source: str = "the CSV") -> tuple[np.ndarray, np.ndarray]:
    """Image and robot points from CSV text: image_x, image_y, robot_x, robot_y[, robot_z].

    Raises:
        CalibrationError: a missing column or a value that is not a number (every one named).
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CalibrationError(
            f"{source} needs the columns {', '.join(_COLUMNS)} (and optionally robot_z); "
            f"missing: {', '.join(missing)}"
        )
    image, robot, problems = [], [], []
    for line, row in enumerate(reader, start=2):
        try:
            image.append([float(row["image_x"]), float(row["image_y"])])
            robot.append([float(row["robot_x"]), float(row["robot_y"]),
                          float(row.get("robot_z") or 0.0)])  # fmt: skip
        except (TypeError, ValueError):
            problems.append(f"line {line}: every value must be a number")
    if problems:
        raise CalibrationError(f"{source}: " + "; ".join(problems))
    return np.asarray(image, dtype=float).reshape(-1, 2), np.asarray(robot, dtype=float).reshape(
        -1, 3
    )
