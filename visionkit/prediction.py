"""The prediction contract: what visionkit returns for one image.

These dataclasses mirror the JSON in ``DESIGN.md`` field for field;
:meth:`Prediction.to_dict` produces that JSON and :meth:`Prediction.from_dict`
reads it back. Coordinates are pixels of the input image as given
(x = column, y = row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DishInfo",
    "Keypoint",
    "ModelInfo",
    "Plant",
    "Prediction",
    "RobotPoint",
]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True)
class Keypoint:
    """A landmark in input-image pixels with its confidence in [0, 1]."""

    x: float
    y: float
    confidence: float

    def to_dict(self) -> dict[str, float]:
        """The contract's ``{"x", "y", "confidence"}`` object."""
        return {
            "x": _round(self.x, 2) or 0.0,
            "y": _round(self.y, 2) or 0.0,
            "confidence": _round(self.confidence, 4) or 0.0,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Keypoint | None:
        """Read a keypoint object; ``None`` stays ``None``."""
        if data is None:
            return None
        return cls(float(data["x"]), float(data["y"]), float(data["confidence"]))


@dataclass(frozen=True)
class RobotPoint:
    """A landmark mapped into a robot's frame (metres), e.g. ``frame="ot2"``."""

    frame: str
    x: float
    y: float
    z: float

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``robot`` object."""
        return {
            "frame": self.frame,
            "x": round(self.x, 6),
            "y": round(self.y, 6),
            "z": round(self.z, 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RobotPoint | None:
        """Read a robot object; ``None`` stays ``None``."""
        if data is None:
            return None
        return cls(str(data["frame"]), float(data["x"]), float(data["y"]), float(data["z"]))


@dataclass(frozen=True)
class Plant:
    """One seedling: its primary-root start and tip, and the root's length.

    A plant whose root was not found keeps ``tip=None`` and says why in
    ``reason``. ``tip_factors`` holds the raw factors the tip's confidence
    was made from (:mod:`visionkit.landmarks.confidence`); it is not part of
    the contract's JSON, but what evaluation fits the doubts' strengths on
    (:mod:`visionkit.landmarks.tip_calibration`).
    """

    plant: int
    tip: Keypoint | None
    start: Keypoint | None
    primary_root_length_px: float | None = None
    primary_root_length_mm: float | None = None
    robot: RobotPoint | None = None
    reason: str | None = None
    tip_factors: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The contract's per-plant object."""
        out: dict[str, Any] = {
            "plant": self.plant,
            "tip": self.tip.to_dict() if self.tip else None,
            "start": self.start.to_dict() if self.start else None,
            "primary_root_length_px": _round(self.primary_root_length_px, 2),
            "primary_root_length_mm": _round(self.primary_root_length_mm, 3),
            "robot": self.robot.to_dict() if self.robot else None,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plant:
        """Read a per-plant object."""
        length_px = data.get("primary_root_length_px")
        length_mm = data.get("primary_root_length_mm")
        return cls(
            plant=int(data["plant"]),
            tip=Keypoint.from_dict(data.get("tip")),
            start=Keypoint.from_dict(data.get("start")),
            primary_root_length_px=None if length_px is None else float(length_px),
            primary_root_length_mm=None if length_mm is None else float(length_mm),
            robot=RobotPoint.from_dict(data.get("robot")),
            reason=data.get("reason"),
        )


@dataclass(frozen=True)
class ModelInfo:
    """Which model made a prediction: registry name, version and weights hash."""

    name: str
    version: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        """The contract's ``model`` object."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


@dataclass(frozen=True)
class DishInfo:
    """Where the dish lies in the input image and the scale it implies."""

    bbox: tuple[int, int, int, int]
    mm_per_px: float

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``dish`` object."""
        return {"bbox": [int(v) for v in self.bbox], "mm_per_px": round(self.mm_per_px, 6)}


@dataclass
class Prediction:
    """Everything visionkit says about one image.

    ``mask_arrays`` holds the binary masks (``uint8`` 0/255, input-image size)
    keyed by class; adapters that write files name them in ``masks``. They are
    not part of :meth:`to_dict`.
    """

    image: str
    width: int
    height: int
    model: ModelInfo
    dish: DishInfo | None
    plants: list[Plant]
    confidence: dict[str, float] = field(default_factory=dict)
    masks: dict[str, str] = field(default_factory=dict)
    timing_ms: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    mask_arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def stem(self) -> str:
        """The image name without extension, used to name output files."""
        name = self.image.replace("\\", "/").rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0] if "." in name else name

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the prediction contract."""
        out: dict[str, Any] = {
            "image": self.image,
            "width": self.width,
            "height": self.height,
            "model": self.model.to_dict(),
            "dish": self.dish.to_dict() if self.dish else None,
            "masks": dict(self.masks),
            "confidence": {k: round(float(v), 4) for k, v in self.confidence.items()},
            "plants": [p.to_dict() for p in self.plants],
            "timing_ms": {k: round(float(v), 1) for k, v in self.timing_ms.items()},
        }
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prediction:
        """Rebuild a prediction from its contract JSON (without mask arrays)."""
        dish = data.get("dish")
        model = data["model"]
        return cls(
            image=str(data["image"]),
            width=int(data["width"]),
            height=int(data["height"]),
            model=ModelInfo(str(model["name"]), str(model["version"]), str(model["sha256"])),
            dish=DishInfo(tuple(int(v) for v in dish["bbox"]), float(dish["mm_per_px"]))  # type: ignore[arg-type]
            if dish
            else None,
            plants=[Plant.from_dict(p) for p in data.get("plants", [])],
            confidence={k: float(v) for k, v in data.get("confidence", {}).items()},
            masks=dict(data.get("masks", {})),
            timing_ms={k: float(v) for k, v in data.get("timing_ms", {}).items()},
            warnings=list(data.get("warnings", [])),
        )
