"""Live accuracy: the production model's tips against the tips people checked on the review page.

Each plant of a prediction's latest review is one labelled tip: *accepted*
means the model's tip was right (error 0); *moved* gives the distance from
the model's tip to the person's, in mm at the plate's scale; *added* (the
model found no tip) and *rejected* (the model's tip was not a tip) are
misses, never within 1 mm. Over time this gives the version's tip error
and its share of tips within 1 mm, the measure the robot cares about.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Max

from portal.predictions.models import Review, TipLabel
from portal.registry.models import ModelVersion

__all__ = ["LabelledTip", "by_day", "labelled_tips", "window"]

WITHIN_MM = 1.0


@dataclass(frozen=True)
class LabelledTip:
    """One checked tip: when it was reviewed and how far off the model was (None: a miss)."""

    reviewed_at: datetime
    error_mm: float | None

    @property
    def within(self) -> bool:
        """Whether the model's tip was within 1 mm of the checked one."""
        return self.error_mm is not None and self.error_mm <= WITHIN_MM


def _error(label: TipLabel, mm_per_px: float) -> float | None:
    if label.verdict == "accepted":
        return 0.0
    if label.verdict == "moved" and None not in (label.x, label.y, label.predicted_x,
                                                  label.predicted_y):  # fmt: skip
        dx = float(label.x) - float(label.predicted_x)  # type: ignore[arg-type]
        dy = float(label.y) - float(label.predicted_y)  # type: ignore[arg-type]
        return math.hypot(dx, dy) * mm_per_px
    return None


def labelled_tips(version: ModelVersion) -> list[LabelledTip]:
    """Each tip of the latest review of every reviewed prediction of ``version``, oldest first."""
    latest = (
        Review.objects.filter(prediction__model_version=version)
        .values("prediction")
        .annotate(number=Max("number"))
    )
    wanted = {(row["prediction"], row["number"]) for row in latest}
    labels = (
        TipLabel.objects.filter(prediction__model_version=version)
        .select_related("review", "prediction")
        .order_by("review__created_at", "plant")
    )
    tips = []
    for label in labels:
        if (label.prediction_id, label.review.number) not in wanted:
            continue
        dish: dict[str, Any] = label.prediction.contract.get("dish") or {}
        mm_per_px = float(dish.get("mm_per_px") or 0.05)
        tips.append(LabelledTip(label.review.created_at, _error(label, mm_per_px)))
    return tips


def _summary(tips: list[LabelledTip]) -> dict[str, Any]:
    errors = [t.error_mm for t in tips if t.error_mm is not None]
    return {
        "tips": len(tips),
        "within_1mm": sum(t.within for t in tips) / len(tips) if tips else None,
        "median_error_mm": round(statistics.median(errors), 3) if errors else None,
        "misses": sum(1 for t in tips if t.error_mm is None),
    }


def window(version: ModelVersion, size: int) -> dict[str, Any]:
    """The latest ``size`` labelled tips' summary (tips, within_1mm, median error, misses)."""
    return _summary(labelled_tips(version)[-size:])


def by_day(version: ModelVersion) -> list[dict[str, Any]]:
    """One summary per review day, oldest first (the monitoring page's accuracy chart)."""
    days: dict[date, list[LabelledTip]] = defaultdict(list)
    for tip in labelled_tips(version):
        days[tip.reviewed_at.date()].append(tip)
    return [{"day": day.isoformat()} | _summary(tips) for day, tips in sorted(days.items())]
