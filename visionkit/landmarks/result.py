"""What :func:`~visionkit.landmarks.find_landmarks` says: about each plant, and where it looked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from visionkit.prediction import Keypoint, Plant

__all__ = ["Landmarks", "PlantLandmarks"]


def _empty_path() -> np.ndarray:
    return np.zeros((0, 2), np.float64)


@dataclass(frozen=True, eq=False)
class PlantLandmarks:
    """One plant's primary-root start and tip, the path between them, and how sure we are.

    Coordinates are pixels of the probability maps given to
    :func:`~visionkit.landmarks.find_landmarks` (x = column, y = row); use
    :meth:`to_plant` to move them into the input image.

    Attributes:
        plant: 1..N, numbered left to right among the plants *found*. A plant
            missing from the dish is not listed, so with one of five missing
            the numbers run 1..4; a caller that knows the sowing positions
            matches plants to them by ``anchor``.
        start: the top of the primary root (its junction with the hypocotyl,
            just below the seed), or ``None`` when no root was found.
        tip: the end of the primary root, or ``None`` (see ``reason``).
        start_confidence: in [0, 1]; see :mod:`visionkit.landmarks.confidence`.
        tip_confidence: in [0, 1]; see :mod:`visionkit.landmarks.confidence`.
        path: ``(K, 2)`` float polyline ``(x, y)`` from start to tip, smoothed
            (the pixel staircase removed); empty when there is no root.
        length_px: arc length of ``path`` in map pixels, or ``None``.
        reason: why ``tip`` is ``None``; ``None`` when a tip was found.
        anchor: the shoot/seed position the root search started from.
        components: the factors each confidence is made of (keys start with
            ``start_`` or ``tip_``), for debugging and calibration.
    """

    plant: int
    start: tuple[float, float] | None
    tip: tuple[float, float] | None
    start_confidence: float
    tip_confidence: float
    path: np.ndarray = field(default_factory=_empty_path)
    length_px: float | None = None
    reason: str | None = None
    anchor: tuple[float, float] = (0.0, 0.0)
    components: Mapping[str, float] = field(default_factory=dict)

    def length_mm(self, px_per_mm: float) -> float | None:
        """The primary-root length in millimetres at the maps' resolution ``px_per_mm``."""
        if self.length_px is None:
            return None
        if px_per_mm <= 0:
            raise ValueError(f"px_per_mm must be positive, got {px_per_mm}")
        return self.length_px / px_per_mm

    def to_plant(
        self,
        *,
        scale: float = 1.0,
        offset: tuple[float, float] = (0.0, 0.0),
        px_per_mm: float | None = None,
    ) -> Plant:
        """This plant in the prediction contract, in input-image pixels.

        Args:
            scale: map pixels per input pixel (0.5 when the maps were made at
                half the input's resolution).
            offset: ``(x, y)`` of the maps' origin in the input image (where a
                dish crop started).
            px_per_mm: the maps' resolution; when given, the length is also
                reported in millimetres.
        """
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")

        def keypoint(xy: tuple[float, float] | None, confidence: float) -> Keypoint | None:
            if xy is None:
                return None
            return Keypoint(xy[0] / scale + offset[0], xy[1] / scale + offset[1], confidence)

        return Plant(
            plant=self.plant,
            tip=keypoint(self.tip, self.tip_confidence),
            start=keypoint(self.start, self.start_confidence),
            primary_root_length_px=None if self.length_px is None else self.length_px / scale,
            primary_root_length_mm=None if px_per_mm is None else self.length_mm(px_per_mm),
            reason=self.reason,
        )


@dataclass(frozen=True, eq=False)
class Landmarks:
    """What :func:`~visionkit.landmarks.find_landmarks` found on one set of maps.

    Attributes:
        plants: one :class:`PlantLandmarks` per plant found, numbered 1..N
            left to right (empty when no plant was found).
        root_support: ``H x W`` bool at the maps' resolution: the root (and
            occluded-root) pixels that belong to the plants, the pieces the
            search walked (see :mod:`~visionkit.landmarks.region`); all
            ``False`` when no plant was found. Masks limited to the plants'
            root systems keep only these pixels.
    """

    plants: list[PlantLandmarks]
    root_support: np.ndarray
