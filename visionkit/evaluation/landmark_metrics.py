"""How far predicted root tips and starts are from the truth, and how trustworthy.

:func:`plant_errors` turns one plate's :class:`~visionkit.evaluation.matching.Matching`
into one :class:`PlantError` per ground-truth plant; :func:`summarize_landmarks`
turns the errors of many plates into the figures a robot user asks for:

tip / start error
    Euclidean distance in input pixels and in millimetres (``mm_per_px`` of
    the plate: the ground truth's dish when known, else the detected dish).
tips within 1 mm
    the share of ground-truth plants whose predicted tip lies within
    ``tolerance_mm``. Its denominator is every ground-truth plant with a known
    scale, so a missed plant or a plant without a tip counts as a failure:
    this is the share the robot would inoculate correctly.
primary-root length sMAPE
    the symmetric mean absolute percentage error
    ``100 * mean(|p - t| / ((|p| + |t|) / 2))`` over matched plants with both
    lengths (in pixels; the ratio needs no scale).
confident tips
    among predicted tips with confidence >= ``confident`` (0.8), the share
    within ``tolerance_mm``, and how many tips that is and what share of the
    ground-truth plants it covers: the figure a robot that only acts on
    confident tips relies on.
confidence bins
    the same share within tolerance per tip-confidence bin, to see whether
    a higher confidence does mean a closer tip.
misses
    the two ways a tip fails a robot, counted (:func:`far_tips`):
    predicted tips more than ``far_mm`` (5) from *every* true tip of their
    plate (a lateral taken for the primary, a neighbour's root, debris: the
    robot would inoculate agar), as a count and per 60 ground-truth plants
    (a dozen plates); and confident tips more than ``tolerance_mm`` off
    (the tips a robot trusts wrongly), as a count and a share of the
    confident tips.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from visionkit.evaluation.matching import Matching

__all__ = [
    "CONFIDENT_TIP",
    "FAR_MM",
    "TOLERANCE_MM",
    "ConfidenceBin",
    "ErrorStats",
    "LandmarkSummary",
    "PlantError",
    "far_tips",
    "plant_errors",
    "smape",
    "summarize_landmarks",
]

#: Tip confidence from which a robot may act on a tip without a human look.
CONFIDENT_TIP = 0.8
#: The robot's accuracy requirement.
TOLERANCE_MM = 1.0
#: A tip farther than this from every true tip is a miss, not an inaccuracy.
FAR_MM = 5.0
#: Ground-truth plants the far-tip rate is given per (a dozen plates of five).
FAR_PER = 60


def _distance(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _mm(value: float | None, mm_per_px: float | None) -> float | None:
    return None if value is None or mm_per_px is None else value * mm_per_px


@dataclass(frozen=True)
class PlantError:
    """One ground-truth plant and how well it was predicted.

    Attributes:
        image: the plate's image name.
        truth_plant: the plant's number in the ground truth.
        predicted_plant: the number of the predicted plant matched to it
            (``None`` when missed).
        tip_error_px, tip_error_mm: tip distance (``None`` without a tip or scale).
        start_error_px, start_error_mm: start distance, likewise.
        tip_confidence: the predicted tip's confidence.
        length_true_px, length_pred_px: primary-root lengths.
        mm_per_px: the plate's scale used, or ``None`` when unknown.
        within_tolerance: tip within the tolerance (``None`` without a scale).
    """

    image: str
    truth_plant: int
    predicted_plant: int | None
    tip_error_px: float | None
    tip_error_mm: float | None
    start_error_px: float | None
    start_error_mm: float | None
    tip_confidence: float | None
    length_true_px: float | None
    length_pred_px: float | None
    mm_per_px: float | None
    within_tolerance: bool | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def plant_errors(
    matching: Matching,
    *,
    image: str,
    mm_per_px: float | None,
    tolerance_mm: float = TOLERANCE_MM,
) -> list[PlantError]:
    """One :class:`PlantError` per ground-truth plant of a plate (matched first, then missed)."""
    errors: list[PlantError] = []
    for pair in matching.pairs:
        truth, pred = pair.truth, pair.predicted
        tip_px = _distance(truth.tip, pred.tip)
        start_px = _distance(truth.start, pred.start)
        tip_mm = _mm(tip_px, mm_per_px)
        within = None if mm_per_px is None else tip_mm is not None and tip_mm <= tolerance_mm
        errors.append(
            PlantError(
                image=image,
                truth_plant=truth.plant,
                predicted_plant=pred.plant,
                tip_error_px=tip_px,
                tip_error_mm=tip_mm,
                start_error_px=start_px,
                start_error_mm=_mm(start_px, mm_per_px),
                tip_confidence=pred.tip_confidence if pred.tip is not None else None,
                length_true_px=truth.length_px,
                length_pred_px=pred.length_px if pred.tip is not None else None,
                mm_per_px=mm_per_px,
                within_tolerance=within,
            )
        )
    for truth in matching.missed:
        errors.append(
            PlantError(
                image=image,
                truth_plant=truth.plant,
                predicted_plant=None,
                tip_error_px=None,
                tip_error_mm=None,
                start_error_px=None,
                start_error_mm=None,
                tip_confidence=None,
                length_true_px=truth.length_px,
                length_pred_px=None,
                mm_per_px=mm_per_px,
                within_tolerance=None if mm_per_px is None else False,
            )
        )
    return errors


def far_tips(matching: Matching, *, mm_per_px: float | None, far_mm: float = FAR_MM) -> int | None:
    """Predicted tips on a plate farther than ``far_mm`` from every true tip there.

    Matched and spurious predictions alike: a tip next to a neighbour's
    true tip is not counted (it is a numbering matter, not agar), a tip on
    debris is. ``None`` without a scale; every predicted tip counts on a
    plate with no true tip.
    """
    if mm_per_px is None:
        return None
    truth = [t.tip for t in [p.truth for p in matching.pairs] + matching.missed if t.tip]
    predicted = [p.tip for p in [m.predicted for m in matching.pairs] + matching.spurious if p.tip]
    if not predicted:
        return 0
    if not truth:
        return len(predicted)
    tips = np.asarray(predicted, np.float64)
    true = np.asarray(truth, np.float64)
    nearest = np.hypot(*(tips[:, None, :] - true[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    return int((nearest * mm_per_px > far_mm).sum())


def smape(predicted: Sequence[float], true: Sequence[float]) -> float:
    """Symmetric mean absolute percentage error, in percent (0-200).

    A pair of two zeros counts as exact. ``nan`` for no pairs.

    Raises:
        ValueError: the sequences differ in length.
    """
    p = np.asarray(predicted, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"{p.size} predicted lengths but {t.size} true ones")
    if p.size == 0:
        return math.nan
    denominator = (np.abs(p) + np.abs(t)) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(denominator > 0, np.abs(p - t) / denominator, 0.0)
    return float(100.0 * ratio.mean())


@dataclass(frozen=True)
class ErrorStats:
    """Summary of a set of distances (all ``nan`` when empty)."""

    count: int
    mean: float
    median: float
    p90: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float | None]) -> ErrorStats:
        """Statistics of the values that are not ``None``."""
        data = np.asarray([v for v in values if v is not None], dtype=np.float64)
        if data.size == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            int(data.size),
            float(data.mean()),
            float(np.median(data)),
            float(np.percentile(data, 90)),
            float(data.max()),
        )


@dataclass(frozen=True)
class ConfidenceBin:
    """Tips whose confidence lies in ``[low, high)`` (the last bin includes 1)."""

    low: float
    high: float
    count: int
    within_tolerance: float


@dataclass(frozen=True)
class LandmarkSummary:
    """Landmark accuracy over many plates (see the module docstring).

    Attributes:
        n_truth: ground-truth plants (present ones).
        n_predicted: predicted plants with a start or a tip.
        n_matched: ground-truth plants paired with a prediction.
        n_missed: ground-truth plants without one.
        n_spurious: predicted plants without a ground-truth plant.
        n_tip_missing: matched plants whose predicted tip is null.
        tip_error_px, tip_error_mm, start_error_px, start_error_mm: distances.
        tips_within_tolerance: share of ground-truth plants (with a scale)
            whose tip is within ``tolerance_mm``.
        length_smape: primary-root length sMAPE, percent.
        tolerance_mm: the tolerance.
        confident_threshold: the confidence a tip needs to count as confident.
        n_confident_tips: predicted tips that confident (matched or not).
        confident_within_tolerance: share of those within the tolerance
            (a spurious confident tip counts as wrong).
        confident_coverage: confident tips within tolerance over ground-truth plants.
        confidence_bins: share within tolerance per confidence bin.
        far_mm: the distance from every true tip that makes a tip a miss.
        n_far_tips: predicted tips that far (``None``: not measured).
        far_tips_per_60: ``n_far_tips`` per 60 ground-truth plants.
        n_confident_off: confident tips farther than ``tolerance_mm`` from
            their true tip (a spurious confident tip included).
        confident_off_share: ``n_confident_off`` over ``n_confident_tips``.
    """

    n_truth: int
    n_predicted: int
    n_matched: int
    n_missed: int
    n_spurious: int
    n_tip_missing: int
    tip_error_px: ErrorStats
    tip_error_mm: ErrorStats
    start_error_px: ErrorStats
    start_error_mm: ErrorStats
    tips_within_tolerance: float
    length_smape: float
    tolerance_mm: float = TOLERANCE_MM
    confident_threshold: float = CONFIDENT_TIP
    n_confident_tips: int = 0
    confident_within_tolerance: float = math.nan
    confident_coverage: float = math.nan
    confidence_bins: list[ConfidenceBin] = field(default_factory=list)
    far_mm: float = FAR_MM
    n_far_tips: int | None = None
    far_tips_per_60: float = math.nan
    n_confident_off: int = 0
    confident_off_share: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``nan`` becomes ``None``)."""
        return _clean(asdict(self))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _share(hits: int, total: int) -> float:
    return hits / total if total else math.nan


def summarize_landmarks(
    errors: Sequence[PlantError],
    *,
    spurious_confidences: Sequence[float | None] = (),
    n_predicted: int | None = None,
    tolerance_mm: float = TOLERANCE_MM,
    confident: float = CONFIDENT_TIP,
    bins: int = 5,
    n_far_tips: int | None = None,
    far_mm: float = FAR_MM,
) -> LandmarkSummary:
    """Aggregate per-plant errors of many plates.

    Args:
        errors: every ground-truth plant's :class:`PlantError`.
        spurious_confidences: the tip confidence (or ``None``) of every
            spurious predicted plant, so confident false tips count against
            the confident-tip accuracy.
        n_predicted: predicted plants in all (default: matched + spurious).
        tolerance_mm: the robot's tolerance.
        confident: the confidence threshold for "confident" tips.
        bins: equal-width tip-confidence bins over [0, 1].
        n_far_tips: predicted tips farther than ``far_mm`` from every true
            tip of their plate, summed over the plates (:func:`far_tips`);
            ``None`` when not counted.
        far_mm: the distance ``n_far_tips`` was counted at.
    """
    matched = [e for e in errors if e.predicted_plant is not None]
    n_spurious = len(spurious_confidences)
    scaled = [e for e in errors if e.within_tolerance is not None]
    within = sum(bool(e.within_tolerance) for e in scaled)
    lengths = [
        (e.length_pred_px, e.length_true_px)
        for e in matched
        if e.length_pred_px is not None and e.length_true_px is not None
    ]
    confident_hits = [
        bool(e.within_tolerance)
        for e in scaled
        if e.tip_confidence is not None and e.tip_confidence >= confident
    ]
    confident_false = sum(c is not None and c >= confident for c in spurious_confidences)
    n_confident = len(confident_hits) + confident_false
    n_confident_off = n_confident - sum(confident_hits)
    edges = np.linspace(0.0, 1.0, bins + 1)
    scored = [
        (e.tip_confidence, bool(e.within_tolerance)) for e in scaled if e.tip_confidence is not None
    ]
    confidence_bins = []
    for i in range(bins):
        low, high = float(edges[i]), float(edges[i + 1])
        inside = [hit for c, hit in scored if low <= c < high or (i == bins - 1 and c == high)]
        confidence_bins.append(
            ConfidenceBin(low, high, len(inside), _share(sum(inside), len(inside)))
        )
    return LandmarkSummary(
        n_truth=len(errors),
        n_predicted=len(matched) + n_spurious if n_predicted is None else n_predicted,
        n_matched=len(matched),
        n_missed=len(errors) - len(matched),
        n_spurious=n_spurious,
        n_tip_missing=sum(e.tip_error_px is None for e in matched),
        tip_error_px=ErrorStats.of(e.tip_error_px for e in errors),
        tip_error_mm=ErrorStats.of(e.tip_error_mm for e in errors),
        start_error_px=ErrorStats.of(e.start_error_px for e in errors),
        start_error_mm=ErrorStats.of(e.start_error_mm for e in errors),
        tips_within_tolerance=_share(within, len(scaled)),
        length_smape=smape([p for p, _ in lengths], [t for _, t in lengths]),
        tolerance_mm=tolerance_mm,
        confident_threshold=confident,
        n_confident_tips=n_confident,
        confident_within_tolerance=_share(sum(confident_hits), n_confident),
        confident_coverage=_share(sum(confident_hits), len(scaled)),
        confidence_bins=confidence_bins,
        far_mm=far_mm,
        n_far_tips=n_far_tips,
        far_tips_per_60=(
            math.nan if n_far_tips is None else _share(FAR_PER * n_far_tips, len(errors))
        ),
        n_confident_off=n_confident_off,
        confident_off_share=_share(n_confident_off, n_confident),
    )
