"""Probability calibration of pixel classifiers: reliability bins and ECE.

"Calibration" here means *probability* calibration (does a pixel called
80 % root turn out to be root 80 % of the time?), not the robot calibration
of :mod:`visionkit.calibration`.

Root pixels are scored one-vs-rest: the confidence of a pixel is its root
probability and its outcome is whether it is root. Outcomes may be
fractional: when the model works at a lower resolution than the labels, a
working pixel's outcome is the share of the input pixels it covers that are
root (see :func:`visionkit.evaluation.evaluate.evaluate`).

Nothing is sampled: :class:`ReliabilityAccumulator` adds each image's
pixels into per-bin sums (weight, confidence, outcome), so its memory is
three numbers per bin however many pixels and images it sees, and the
expected calibration error it reports is exact over every pixel scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_BINS",
    "ReliabilityAccumulator",
    "ReliabilityDiagram",
    "expected_calibration_error",
]

#: Equal-width confidence bins over [0, 1] (the usual choice for ECE).
DEFAULT_BINS = 15


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Per-bin confidence against observed frequency, and the ECE they imply.

    Attributes:
        edges: ``bins + 1`` bin edges from 0 to 1.
        counts: pixels (total weight) per bin.
        confidence: mean predicted probability per bin (``nan`` when empty).
        frequency: observed share of positives per bin (``nan`` when empty).
    """

    edges: tuple[float, ...]
    counts: tuple[float, ...]
    confidence: tuple[float, ...]
    frequency: tuple[float, ...]

    @property
    def total(self) -> float:
        """Pixels (total weight) scored."""
        return float(sum(self.counts))

    @property
    def ece(self) -> float:
        """Expected calibration error: ``sum_b n_b / N * |frequency_b - confidence_b|``.

        0 is perfectly calibrated; ``nan`` before any pixel was scored.
        """
        total = self.total
        if total <= 0:
            return math.nan
        gaps = [
            count * abs(freq - conf)
            for count, conf, freq in zip(self.counts, self.confidence, self.frequency, strict=True)
            if count > 0
        ]
        return float(sum(gaps) / total)

    @property
    def max_gap(self) -> float:
        """The largest ``|frequency - confidence|`` of a non-empty bin (the MCE)."""
        gaps = [
            abs(freq - conf)
            for count, conf, freq in zip(self.counts, self.confidence, self.frequency, strict=True)
            if count > 0
        ]
        return float(max(gaps)) if gaps else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (empty bins' means are ``None``)."""

        def clean(values: tuple[float, ...]) -> list[float | None]:
            return [None if math.isnan(v) else float(v) for v in values]

        ece = self.ece
        gap = self.max_gap
        return {
            "ece": None if math.isnan(ece) else ece,
            "max_gap": None if math.isnan(gap) else gap,
            "pixels": self.total,
            "edges": list(self.edges),
            "counts": list(self.counts),
            "confidence": clean(self.confidence),
            "frequency": clean(self.frequency),
        }


class ReliabilityAccumulator:
    """Per-bin sums of confidence and outcome, fed image by image.

    Args:
        bins: equal-width bins over [0, 1].

    Example::

        acc = ReliabilityAccumulator()
        acc.update(root_probability, root_truth)      # arrays of one shape
        acc.result().ece
    """

    def __init__(self, bins: int = DEFAULT_BINS) -> None:
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        self.bins = int(bins)
        self._weight = np.zeros(self.bins, dtype=np.float64)
        self._confidence = np.zeros(self.bins, dtype=np.float64)
        self._outcome = np.zeros(self.bins, dtype=np.float64)

    def update(self, probabilities: Any, outcomes: Any, weights: Any = None) -> None:
        """Score one batch of pixels.

        Args:
            probabilities: predicted probabilities of the positive class, in [0, 1].
            outcomes: the truth per pixel: 0/1, booleans, or shares in [0, 1].
            weights: optional non-negative weight per pixel (default 1).

        Raises:
            ValueError: shapes differ, or a probability or outcome lies outside [0, 1].
        """
        probs = np.asarray(probabilities, dtype=np.float64).ravel()
        truth = np.asarray(outcomes, dtype=np.float64).ravel()
        if probs.shape != truth.shape:
            raise ValueError(
                f"{probs.size} probabilities but {truth.size} outcomes; pass arrays of one shape"
            )
        if probs.size == 0:
            return
        if not (np.all(probs >= 0) and np.all(probs <= 1)):
            raise ValueError("probabilities must lie in [0, 1] (softmax outputs)")
        if not (np.all(truth >= 0) and np.all(truth <= 1)):
            raise ValueError("outcomes must lie in [0, 1] (0/1 labels or shares)")
        if weights is None:
            weight = np.ones_like(probs)
        else:
            weight = np.asarray(weights, dtype=np.float64).ravel()
            if weight.shape != probs.shape or np.any(weight < 0):
                raise ValueError("weights must be non-negative, one per probability")
        which = np.minimum((probs * self.bins).astype(np.int64), self.bins - 1)
        self._weight += np.bincount(which, weights=weight, minlength=self.bins)
        self._confidence += np.bincount(which, weights=weight * probs, minlength=self.bins)
        self._outcome += np.bincount(which, weights=weight * truth, minlength=self.bins)

    def merge(self, other: ReliabilityAccumulator) -> ReliabilityAccumulator:
        """Add another accumulator's sums (same number of bins) to this one."""
        if other.bins != self.bins:
            raise ValueError(f"cannot merge {other.bins} bins into {self.bins}")
        self._weight += other._weight
        self._confidence += other._confidence
        self._outcome += other._outcome
        return self

    def result(self) -> ReliabilityDiagram:
        """The reliability diagram of everything scored so far."""
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence = np.where(self._weight > 0, self._confidence / self._weight, np.nan)
            frequency = np.where(self._weight > 0, self._outcome / self._weight, np.nan)
        return ReliabilityDiagram(
            edges=tuple(float(v) for v in np.linspace(0.0, 1.0, self.bins + 1)),
            counts=tuple(float(v) for v in self._weight),
            confidence=tuple(float(v) for v in confidence),
            frequency=tuple(float(v) for v in frequency),
        )


def expected_calibration_error(
    probabilities: Any, outcomes: Any, *, bins: int = DEFAULT_BINS
) -> float:
    """One-vs-rest ECE of positive-class ``probabilities`` against ``outcomes`` (see the module)."""
    accumulator = ReliabilityAccumulator(bins)
    accumulator.update(probabilities, outcomes)
    return accumulator.result().ece
