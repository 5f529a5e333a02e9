"""What the ``ros`` adapter says about one plate, as rosbridge message dictionaries.

Two messages per plate, sharing one time stamp:

``geometry_msgs/PoseArray`` (``targets_topic``)
    one pose per accepted tip, in the robot frame (metres), with an identity
    orientation: the robot comes down onto a point, the tip has no heading.
``std_msgs/String`` (``tips_topic``)
    ``data`` is JSON: the image, the model, and for each accepted tip (in the
    same order as the poses) its plant number, confidence, robot and pixel
    coordinates; then the plants left out and why.

A tip is accepted when its confidence is at least ``threshold`` and the
calibration gave it a robot point. Building the messages needs no network,
so it is checked here before anything is sent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from visionkit import Prediction
from visionkit.exceptions import AdapterError
from visionkit_ros.options import RosOptions

__all__ = [
    "POSE_ARRAY",
    "STRING",
    "Accepted",
    "PlateMessages",
    "Skipped",
    "Stamp",
    "plate_messages",
    "split_plants",
]

#: rosbridge message types; ROS 2's rosbridge accepts these names too.
POSE_ARRAY = "geometry_msgs/PoseArray"
STRING = "std_msgs/String"

_IDENTITY = {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}


@dataclass(frozen=True)
class Stamp:
    """A ROS time: whole seconds since the epoch and the nanoseconds after them.

    ``secs``/``nsecs`` are ROS 1's field names; ROS 2's rosbridge reads them
    into ``sec``/``nanosec``.
    """

    secs: int
    nsecs: int

    @classmethod
    def from_ns(cls, ns: int) -> Stamp:
        """The stamp of ``ns`` nanoseconds since the epoch (``time.time_ns()``)."""
        return cls(ns // 1_000_000_000, ns % 1_000_000_000)

    def to_dict(self) -> dict[str, int]:
        """The ``stamp`` object of a ``std_msgs/Header``."""
        return {"secs": self.secs, "nsecs": self.nsecs}


@dataclass(frozen=True)
class Accepted:
    """A root tip the robot should visit: robot metres and where it came from."""

    plant: int
    confidence: float
    x: float
    y: float
    z: float
    pixel_x: float
    pixel_y: float

    def to_dict(self) -> dict[str, Any]:
        """The tip as listed in the tips message."""
        return {
            "plant": self.plant,
            "confidence": self.confidence,
            "x": self.x,
            "y": self.y,
            "z": self.z,
            "pixel": {"x": self.pixel_x, "y": self.pixel_y},
        }


@dataclass(frozen=True)
class Skipped:
    """A plant not sent as a target, and why (no tip, too uncertain...)."""

    plant: int
    reason: str
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The plant as listed under ``skipped`` in the tips message."""
        return {"plant": self.plant, "reason": self.reason, "confidence": self.confidence}


@dataclass(frozen=True)
class PlateMessages:
    """Both messages of one plate, ready for ``roslibpy.Message``."""

    accepted: tuple[Accepted, ...]
    skipped: tuple[Skipped, ...]
    targets: dict[str, Any]
    tips: dict[str, Any]


def split_plants(
    prediction: Prediction, options: RosOptions
) -> tuple[list[Accepted], list[Skipped]]:
    """Sort the plants into accepted tips and skipped plants, in plant order.

    Numbers come from the contract JSON (:meth:`Prediction.to_dict`, rounded
    as there), so the robot reads exactly what ``<stem>.json`` says and the
    threshold cuts where the portal's does.

    Raises:
        AdapterError: some plant has a tip but none has robot coordinates:
            the prediction was made without a calibration.
    """
    plants = prediction.to_dict()["plants"]
    with_tip = [p for p in plants if p["tip"] is not None]
    if with_tip and all(p["robot"] is None for p in with_tip):
        raise AdapterError(
            f"{prediction.image}: the prediction has no robot coordinates, so the ros adapter "
            f"has nothing to send; predict with a calibration: --calibration ot2 (or a "
            f"calibration file) on the command line, calibration= in Python"
        )
    accepted: list[Accepted] = []
    skipped: list[Skipped] = []
    for plant in plants:
        tip, robot = plant["tip"], plant["robot"]
        reason = _reason_to_skip(plant, options)
        if reason is not None:
            skipped.append(Skipped(plant["plant"], reason, tip["confidence"] if tip else None))
            continue
        accepted.append(
            Accepted(
                plant=plant["plant"],
                confidence=tip["confidence"],
                x=robot["x"],
                y=robot["y"],
                z=robot["z"] if options.z is None else options.z,
                pixel_x=tip["x"],
                pixel_y=tip["y"],
            )
        )
    return accepted, skipped


def _reason_to_skip(plant: dict[str, Any], options: RosOptions) -> str | None:
    tip, robot = plant["tip"], plant["robot"]
    if tip is None:
        return "no root tip found" + (f": {plant['reason']}" if plant.get("reason") else "")
    if tip["confidence"] < options.threshold:
        confidence = tip["confidence"]
        return f"tip confidence {confidence:.4g} is below the threshold {options.threshold:g}"
    if robot is None:
        return "no robot coordinates: the calibration could not map the tip"
    point = (robot["x"], robot["y"], robot["z"])
    if not all(math.isfinite(v) for v in point):
        return f"robot coordinates {point} are not finite numbers"
    return None


def plate_messages(prediction: Prediction, options: RosOptions, stamp: Stamp) -> PlateMessages:
    """The pose array and the tips message for one plate.

    Raises:
        AdapterError: the prediction has no calibration (see :func:`split_plants`),
            its robot points are in several frames, or a number is not finite.
    """
    accepted, skipped = split_plants(prediction, options)
    header = {"frame_id": options.frame_id, "stamp": stamp.to_dict()}
    targets = {
        "header": header,
        "poses": [
            {"position": {"x": a.x, "y": a.y, "z": a.z}, "orientation": dict(_IDENTITY)}
            for a in accepted
        ],
    }
    frames = sorted({p.robot.frame for p in prediction.plants if p.robot is not None})
    if len(frames) > 1:
        raise AdapterError(
            f"{prediction.image}: robot points are in several frames ({', '.join(frames)}); "
            f"the ros adapter sends one pose array in one frame: predict with one calibration"
        )
    report = {
        "image": prediction.image,
        "model": prediction.model.to_dict(),
        "frame_id": options.frame_id,
        "calibration_frame": frames[0] if frames else None,
        "stamp": stamp.to_dict(),
        "threshold": options.threshold,
        "tips": [a.to_dict() for a in accepted],
        "skipped": [s.to_dict() for s in skipped],
    }
    try:
        tips = {"data": json.dumps(report, allow_nan=False)}
    except ValueError as exc:
        raise AdapterError(
            f"{prediction.image}: the tips hold NaN or infinity ({exc}); nothing was sent"
        ) from exc
    return PlateMessages(tuple(accepted), tuple(skipped), targets, tips)
