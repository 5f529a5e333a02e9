"""Pair predicted plants with ground-truth plants on one plate.

Plants are numbered left to right in both a prediction and the ground truth,
but a missed or an extra seedling shifts every number after it, so numbers
are not trusted. Instead each plant is reduced to its *anchor*, the
primary-root start (the junction with the hypocotyl, which sits under the
shoot and barely moves between a good and a bad segmentation), and the pairs
are chosen by the Hungarian method (:func:`scipy.optimize.linear_sum_assignment`)
to minimise the summed anchor distance. A pair farther apart than
``max_distance_px`` is no pair: its truth plant counts as missed and its
predicted plant as spurious. When a plant has no start, the tips are compared
instead.

Ground-truth plants marked ``present: false`` (no seedling) are not
expected; predicted placeholders with neither start nor tip (the contract
lists them when nothing was found) are not predictions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from visionkit.prediction import Plant

__all__ = ["Matching", "PlantMatch", "PlantPoints", "anchor_distance", "match_plants"]

Point = tuple[float, float]


def _point(value: Any) -> Point | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return float(value["x"]), float(value["y"])
    if hasattr(value, "x") and hasattr(value, "y"):
        return float(value.x), float(value.y)
    x, y = value
    return float(x), float(y)


@dataclass(frozen=True)
class PlantPoints:
    """One plant's landmarks in input-image pixels, truth or prediction alike.

    Attributes:
        plant: the plant's number in its source (1-based, left to right).
        start: primary-root start ``(x, y)``, or ``None``.
        tip: primary-root tip ``(x, y)``, or ``None`` (root not found).
        tip_confidence: the tip's confidence (predictions only).
        length_px: primary-root length in input pixels, or ``None``.
    """

    plant: int
    start: Point | None
    tip: Point | None
    tip_confidence: float | None = None
    length_px: float | None = None

    @classmethod
    def from_truth(cls, record: Mapping[str, Any]) -> PlantPoints | None:
        """A plant of a ``<stem>.landmarks.json`` file; ``None`` when it is not present."""
        if not record.get("present", True):
            return None
        start, tip = _point(record.get("start")), _point(record.get("tip"))
        if start is None and tip is None:
            return None
        length = record.get("primary_root_length_px")
        return cls(
            plant=int(record.get("plant", 0)),
            start=start,
            tip=tip,
            length_px=None if length is None else float(length),
        )

    @classmethod
    def from_plant(cls, plant: Plant) -> PlantPoints | None:
        """A predicted plant of the contract; ``None`` for a placeholder with no landmark."""
        if plant.start is None and plant.tip is None:
            return None
        return cls(
            plant=plant.plant,
            start=_point(plant.start),
            tip=_point(plant.tip),
            tip_confidence=None if plant.tip is None else float(plant.tip.confidence),
            length_px=plant.primary_root_length_px,
        )


def anchor_distance(a: PlantPoints, b: PlantPoints) -> float:
    """Distance between two plants' starts, else their tips, else infinity."""
    for first, second in ((a.start, b.start), (a.tip, b.tip)):
        if first is not None and second is not None:
            return math.hypot(first[0] - second[0], first[1] - second[1])
    return math.inf


@dataclass(frozen=True)
class PlantMatch:
    """A ground-truth plant and the predicted plant taken for it."""

    truth: PlantPoints
    predicted: PlantPoints
    distance_px: float


@dataclass(frozen=True)
class Matching:
    """The outcome of :func:`match_plants` on one plate.

    Attributes:
        pairs: matched plants, in the truth's order.
        missed: ground-truth plants with no prediction close enough.
        spurious: predicted plants with no ground-truth plant close enough.
    """

    pairs: list[PlantMatch] = field(default_factory=list)
    missed: list[PlantPoints] = field(default_factory=list)
    spurious: list[PlantPoints] = field(default_factory=list)


def match_plants(
    truth: Sequence[PlantPoints],
    predicted: Sequence[PlantPoints],
    *,
    max_distance_px: float,
) -> Matching:
    """Pair ``predicted`` plants with ``truth`` plants (see the module docstring).

    Args:
        truth: the plate's ground-truth plants (present ones).
        predicted: the predicted plants (placeholders left out).
        max_distance_px: the farthest two anchors may lie apart and still pair.

    Raises:
        ValueError: ``max_distance_px`` is not positive.
    """
    from scipy.optimize import linear_sum_assignment

    if not max_distance_px > 0:
        raise ValueError(f"max_distance_px must be positive, got {max_distance_px}")
    if not truth or not predicted:
        return Matching([], list(truth), list(predicted))
    distance = np.array([[anchor_distance(t, p) for p in predicted] for t in truth])
    too_far = ~(distance <= max_distance_px)
    # Pairs out of reach cost more than any admissible assignment could save.
    cost = np.where(too_far, max_distance_px * (len(truth) + len(predicted) + 1), distance)
    rows, cols = linear_sum_assignment(cost)
    taken = {(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if not too_far[r, c]}
    pairs = [PlantMatch(truth[r], predicted[c], float(distance[r, c])) for r, c in sorted(taken)]
    matched_truth = {r for r, _ in taken}
    matched_pred = {c for _, c in taken}
    return Matching(
        pairs=pairs,
        missed=[t for i, t in enumerate(truth) if i not in matched_truth],
        spurious=[p for j, p in enumerate(predicted) if j not in matched_pred],
    )
