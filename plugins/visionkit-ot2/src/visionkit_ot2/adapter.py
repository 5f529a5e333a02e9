"""The ``ot2`` output adapter: one OT-2 protocol and one target list per image.

For each prediction it writes, into ``out_dir``:

``<stem>.ot2.py``
    an Opentrons OT-2 Python protocol (see :mod:`visionkit_ot2.protocol`)
    that dispenses a small volume of inoculum at each found root tip;
``<stem>.ot2.json``
    the same targets as data: deck millimetres, the pixel each came from,
    its confidence, and the plants left out with the reason.

Targets come from each plant's ``robot`` point (metres in the robot frame,
filled by a :class:`visionkit.Calibration`). A plant without one in the
adapter's ``frame`` is mapped with the adapter's ``calibration`` option when
given, and otherwise left out with a warning; so are plants without a tip,
below ``min_confidence``, or mapped outside the deck.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from visionkit import Calibration, Prediction
from visionkit.adapters.base import BaseAdapter
from visionkit.exceptions import AdapterError, VisionkitError
from visionkit.prediction import Plant, RobotPoint
from visionkit_ot2 import __version__
from visionkit_ot2.options import DECK_LIMITS_MM, Ot2Options
from visionkit_ot2.protocol import Skipped, Target, render_protocol

__all__ = ["Ot2Adapter"]

logger = logging.getLogger(__name__)

_CALIBRATION_SUFFIXES = (".yaml", ".yml", ".json")


class Ot2Adapter(BaseAdapter):
    """Writes an OT-2 inoculation protocol per prediction.

    Args:
        out_dir: folder for the protocol and JSON files; the current folder
            when ``None``. Created if missing.
        **options: see :class:`~visionkit_ot2.options.Ot2Options`;
            ``calibration`` may also be a :class:`visionkit.Calibration`.

    Raises:
        AdapterError: an option is unknown or invalid.
        VisionkitError: the calibration file or preset cannot be loaded.
    """

    name = "ot2"

    def __init__(self, out_dir: str | os.PathLike[str] | None = None, **options: Any) -> None:
        given = options.get("calibration")
        if isinstance(given, Calibration):
            options = {**options, "calibration": None}
        self.options = Ot2Options.from_mapping(options)
        self.out_dir = Path(out_dir) if out_dir is not None else Path.cwd()
        self.calibration: Calibration | None = (
            given if isinstance(given, Calibration) else _load_calibration(self.options.calibration)
        )
        #: Every file this adapter wrote, in order.
        self.written: list[Path] = []

    def plan(self, prediction: Prediction) -> tuple[list[Target], list[Skipped]]:
        """Split the prediction's plants into deck targets and plants left out.

        Each plant that has a tip but is left out is logged as a warning.
        """
        targets: list[Target] = []
        skipped: list[Skipped] = []
        mapped: dict[int, RobotPoint] | None = None
        for plant in prediction.plants:
            reason = self._unusable_tip(plant)
            target = None
            if reason is None:
                point = self._own_point(plant)
                if point is None and self.calibration is not None:
                    if mapped is None:
                        mapped = self._calibrate(prediction)
                    point = mapped.get(plant.plant)
                if point is None:
                    reason = self._no_point_reason(plant.robot)
                else:
                    target = _target(plant, point)
                    reason = _outside_deck(target)
            if target is not None and reason is None:
                targets.append(target)
                continue
            assert reason is not None
            if plant.tip is not None:
                logger.warning(
                    "%s: plant %d left out of the OT-2 protocol: %s",
                    prediction.image,
                    plant.plant,
                    reason,
                )
            skipped.append(Skipped(plant.plant, reason))
        return targets, skipped

    def write(self, prediction: Prediction) -> None:
        """Write ``<stem>.ot2.py`` and ``<stem>.ot2.json`` for one prediction.

        Raises:
            AdapterError: the output folder or files cannot be written.
        """
        targets, skipped = self.plan(prediction)
        protocol_path = self.out_dir / f"{prediction.stem}.ot2.py"
        json_path = self.out_dir / f"{prediction.stem}.ot2.json"
        text = render_protocol(
            image=prediction.image,
            targets=targets,
            skipped=skipped,
            options=self.options,
            author=f"visionkit-ot2 {__version__}",
        )
        record = {
            "image": prediction.image,
            "protocol": protocol_path.name,
            "frame": self.options.frame,
            "units": "mm",
            "calibration": self.calibration.describe() if self.calibration else None,
            "volume_ul": self.options.volume_ul,
            "dispense_height_mm": self.options.dispense_height_mm,
            "labware": self.options.labware(),
            "targets": [t.to_dict() for t in targets],
            "skipped": [s.to_dict() for s in skipped],
        }
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(protocol_path, text)
            _write_atomically(json_path, json.dumps(record, indent=2) + "\n")
        except OSError as exc:
            raise AdapterError(
                f"ot2 adapter cannot write the protocol for {prediction.image} into "
                f"{self.out_dir}: {exc}; check that the folder is writable"
            ) from exc
        self.written += [protocol_path, json_path]
        logger.info(
            "%s: OT-2 protocol with %d target(s) written to %s",
            prediction.image,
            len(targets),
            protocol_path,
        )

    def _unusable_tip(self, plant: Plant) -> str | None:
        if plant.tip is None:
            return "no root tip found" + (f": {plant.reason}" if plant.reason else "")
        if plant.tip.confidence < self.options.min_confidence:
            return (
                f"tip confidence {plant.tip.confidence:.2f} is below "
                f"min_confidence {self.options.min_confidence:g}"
            )
        return None

    def _own_point(self, plant: Plant) -> RobotPoint | None:
        """The plant's robot point when it is already in this adapter's frame."""
        if plant.robot is not None and plant.robot.frame == self.options.frame:
            return plant.robot
        return None

    def _no_point_reason(self, robot: RobotPoint | None) -> str:
        if self.calibration is not None:
            return f"calibration {self.calibration.frame!r} could not map the tip (see the log)"
        hint = "give the ot2 adapter a calibration option (a calibration file or preset 'ot2')"
        if robot is None:
            return f"no robot point; {hint}"
        return f"robot point is in frame {robot.frame!r}, not {self.options.frame!r}; {hint}"

    def _calibrate(self, prediction: Prediction) -> dict[int, RobotPoint]:
        """Robot points by plant number from the adapter's calibration; empty if it fails."""
        assert self.calibration is not None
        try:
            mapped = self.calibration.apply(prediction)
        except VisionkitError as exc:
            logger.warning("%s: calibration failed: %s", prediction.image, exc)
            return {}
        return {p.plant: p.robot for p in mapped.plants if p.robot is not None}


def _load_calibration(ref: str | None) -> Calibration | None:
    """A calibration from a file path (YAML/JSON) or a preset name."""
    if ref is None:
        return None
    if ref.lower().endswith(_CALIBRATION_SUFFIXES) or Path(ref).exists():
        return Calibration.load(ref)
    return Calibration.preset(ref)


def _target(plant: Plant, point: RobotPoint) -> Target:
    assert plant.tip is not None
    return Target(
        plant=plant.plant,
        x_mm=point.x * 1000.0,
        y_mm=point.y * 1000.0,
        z_mm=point.z * 1000.0,
        pixel_x=plant.tip.x,
        pixel_y=plant.tip.y,
        confidence=plant.tip.confidence,
    )


def _outside_deck(target: Target) -> str | None:
    values = (target.x_mm, target.y_mm, target.z_mm)
    for value, (low, high) in zip(values, DECK_LIMITS_MM, strict=True):
        if not low <= value <= high:
            where = ", ".join(f"{v:.1f}" for v in values)
            return (
                f"deck position ({where}) mm is outside the OT-2 deck; robot points must be "
                f"in metres in the deck frame: check the calibration"
            )
    return None


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file so a robot watching the folder never reads half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
