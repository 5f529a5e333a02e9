"""Fit each class's mask threshold on held-out plates.

A mask at the input size is the pixels whose margin ``p(class) - max(other
classes)`` exceeds a threshold: 0 is the arg-max. Where the network and the
edge-aware upsampling place an edge a little inside or outside where the
labels draw it (on synthetic plates root masks came out about a pixel too
thin), moving the threshold moves every edge of that class at once. This is
threshold calibration, like the temperature: fitted on plates the model was
not trained on, then stored in the model's ``config.json``
(``mask_thresholds``) and used by every prediction.

:class:`MaskThresholdFit` counts, for each candidate threshold in
:data:`THRESHOLDS`, the true positives, false positives and false negatives
of every plate (two histograms per class and plate, no per-threshold pass),
and :meth:`MaskThresholdFit.result` picks the threshold of best F1 per class.

It also measures each plate's residual map offset
(:func:`visionkit.inference.offset.estimate_offset`, the predicted against
the true foreground at working resolution); the fitted ``map_offset`` is the
model's plus the median residual, rounded to :data:`OFFSET_STEP`, once at
least :data:`MIN_OFFSET_PLATES` plates gave a clean correlation. The
thresholds are counted under the model's own offset, so when the offset
moves :func:`~visionkit.evaluation.evaluate` runs the plates again under the
fitted one and counts them anew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from visionkit.inference.offset import MAX_OFFSET

if TYPE_CHECKING:
    from visionkit.inference.segment import SegmentationResult

__all__ = ["FITTED_CLASSES", "MIN_OFFSET_PLATES", "OFFSET_STEP", "THRESHOLDS", "MaskThresholdFit"]

#: Candidate thresholds on the margin: -0.4 to 0.2 in steps of 0.05.
THRESHOLDS: tuple[float, ...] = tuple(round(-0.4 + 0.05 * i, 2) for i in range(13))

#: Classes whose thresholds are fitted.
FITTED_CLASSES: tuple[str, ...] = ("root", "shoot", "seed")

#: The fitted map offset is rounded to this many working pixels.
OFFSET_STEP = 0.05

#: Plates with a clean correlation needed before the map offset is moved.
MIN_OFFSET_PLATES = 3

#: Phase-correlation peak response below which a plate's offset is not trusted.
MIN_RESPONSE = 0.3


def _above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How many of ``values`` exceed each threshold (thresholds ascending)."""
    edges = np.concatenate(([-np.inf], thresholds, [np.inf]))
    counts, _ = np.histogram(values, bins=edges)
    # counts[k] holds values in [edges[k], edges[k+1]); above thresholds[k] are bins k+1...
    return np.cumsum(counts[::-1])[::-1][1:]


@dataclass
class MaskThresholdFit:
    """Pixel counts per class and candidate threshold, over the plates added.

    Attributes:
        classes: the model's classes, background first (label ``k`` is ``classes[k]``).
        counts: per fitted class, ``(len(THRESHOLDS), 3)`` true positives,
            false positives and false negatives.
    """

    classes: tuple[str, ...]
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    offsets: list[tuple[float, float, float]] = field(default_factory=list)

    def add(self, seg: SegmentationResult, truth: np.ndarray) -> None:
        """Count one plate: ``truth`` is its label map at the input size."""
        thresholds = np.asarray(THRESHOLDS, dtype=np.float32)
        x0, y0 = seg.offset
        cw, ch = seg.crop_size
        for name in FITTED_CLASSES:
            if name not in self.classes or name not in seg.classes:
                continue
            label = self.classes.index(name)
            is_class = truth == label
            inside = is_class[y0 : y0 + ch, x0 : x0 + cw]
            missed_outside = int(is_class.sum() - inside.sum())
            margin = seg.margin_at_crop_size(name)
            tp = _above(margin[inside], thresholds)
            fp = _above(margin[~inside], thresholds)
            fn = int(inside.sum()) - tp + missed_outside
            plate = np.stack([tp, fp, fn], axis=1).astype(np.int64)
            self.counts[name] = self.counts.get(name, 0) + plate
        if seg.classes and seg.classes[0] == "background":
            from visionkit.inference.offset import estimate_offset

            foreground = 1.0 - np.asarray(seg.probabilities[0], dtype=np.float32)
            self.offsets.append(estimate_offset(seg.working_coverage(truth > 0), foreground))

    def offset_result(self, current: tuple[float, float]) -> dict[str, Any]:
        """The fitted ``map_offset``: ``current`` plus the median residual of clean plates."""
        clean = [(dx, dy) for dx, dy, response in self.offsets if response >= MIN_RESPONSE]
        model = [float(current[0]), float(current[1])]
        result: dict[str, Any] = {
            "model": model,
            "per_plate": [[round(v, 4) for v in item] for item in self.offsets],
            "plates_used": len(clean),
        }
        if len(clean) < MIN_OFFSET_PLATES:
            result.update(residual=None, fitted=model)
            return result
        residual = np.median(np.asarray(clean), axis=0)
        fitted = [
            round(round((m + r) / OFFSET_STEP) * OFFSET_STEP, 4)
            for m, r in zip(model, residual, strict=True)
        ]
        result.update(residual=[round(float(r), 4) for r in residual], fitted=fitted)
        if any(abs(v) > MAX_OFFSET for v in fitted):
            # Beyond a pixel or two the model is wrong, not misregistered.
            result.update(fitted=model, rejected=f"beyond +-{MAX_OFFSET} working pixels")
        return result

    def result(
        self,
        current: dict[str, float] | None = None,
        current_offset: tuple[float, float] = (0.0, 0.0),
    ) -> dict[str, Any]:
        """The best threshold per class, with F1 at 0, at the current and at the fitted one.

        Ties go to the threshold nearest 0. ``current`` is the model's
        ``mask_thresholds`` and ``current_offset`` its ``map_offset``; the
        result's ``map_offset`` holds :meth:`offset_result`.
        """
        current = current or {}
        fitted: dict[str, float] = {}
        f1_by: dict[str, list[float]] = {}
        for name, counts in self.counts.items():
            tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
            denominator = np.maximum(2 * tp + fp + fn, 1)
            f1 = (2 * tp / denominator).astype(float)
            f1_by[name] = [round(float(v), 6) for v in f1]
            order = sorted(range(len(THRESHOLDS)), key=lambda k: (-f1[k], abs(THRESHOLDS[k])))
            fitted[name] = THRESHOLDS[order[0]]
        zero = THRESHOLDS.index(0.0)

        def at(name: str, threshold: float) -> float | None:
            if threshold not in THRESHOLDS:
                return None
            return f1_by[name][THRESHOLDS.index(threshold)]

        return {
            "thresholds": THRESHOLDS,
            "fitted": fitted,
            "model": {name: float(current.get(name, 0.0)) for name in fitted},
            "f1_at_zero": {name: f1_by[name][zero] for name in fitted},
            "f1_at_model": {
                name: at(name, round(float(current.get(name, 0.0)), 2)) for name in fitted
            },
            "f1_fitted": {name: at(name, value) for name, value in fitted.items()},
            "f1_by_threshold": f1_by,
            "map_offset": self.offset_result(current_offset),
        }
