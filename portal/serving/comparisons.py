"""Canary and shadow evidence: the other model on the same live plate, compared tip by tip.

After a canary or shadow request is answered, a django-q2 task runs the
model that did *not* answer on the stored input and records a
:class:`~portal.serving.models.Comparison`: how many tips the two agree on
within 1 mm, their mean distance, and each model's latency. Nothing here
touches the response the client already has.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.core.files.storage import storages

from portal.predictions.models import Prediction
from portal.registry.models import ModelVersion
from portal.serving.models import Comparison, Deployment, Mode

__all__ = ["agreement", "compare", "queue_comparison", "summary"]

logger = logging.getLogger(__name__)

TASK = "portal.serving.comparisons.compare"
#: Two tips closer than this agree.
AGREE_MM = 1.0


def queue_comparison(*, prediction: Prediction, other: ModelVersion, mode: str) -> None:
    """Queue the comparison of a canary or shadow request (a worker runs it)."""
    from django_q.tasks import async_task

    async_task(TASK, prediction.pk, other.pk, mode, group="visionkit-shadow")


def _tips(plants: list[dict[str, Any]]) -> list[tuple[float, float]]:
    return [(p["tip"]["x"], p["tip"]["y"]) for p in plants if p.get("tip")]


def agreement(
    first: list[dict[str, Any]], second: list[dict[str, Any]], mm_per_px: float
) -> tuple[int, int, float | None]:
    """``(tips compared, tips agreeing, mean distance mm)`` of two plant lists (greedy nearest)."""
    a, b = _tips(first), _tips(second)
    pairs = sorted(
        (math.hypot(ax - bx, ay - by) * mm_per_px, i, j)
        for i, (ax, ay) in enumerate(a)
        for j, (bx, by) in enumerate(b)
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    distances: list[float] = []
    for distance, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            distances.append(distance)
    compared = max(len(a), len(b))
    agreeing = sum(1 for d in distances if d <= AGREE_MM)
    return compared, agreeing, (sum(distances) / len(distances) if distances else None)


def compare(prediction_id: int, other_id: int, mode: str) -> int | None:
    """Run ``other`` on the prediction's input and record the comparison; its id."""
    from portal.predictions.loader import get_predictor
    from portal.predictions.services import decode_stored

    prediction = Prediction.objects.select_related("model_version").filter(pk=prediction_id).first()
    other = ModelVersion.objects.filter(pk=other_id).first()
    if prediction is None or other is None or prediction.model_version is None:
        logger.info("comparison skipped: prediction %s or version %s is gone",
                    prediction_id, other_id)  # fmt: skip
        return None
    deployment = Deployment.objects.filter(name=prediction.model_version.name).first()
    if deployment is None:
        return None
    with storages["default"].open(prediction.image, "rb") as handle:
        image = decode_stored(handle.read(), prediction.image_name)
    started = time.perf_counter()
    result = get_predictor(other).predict(image, name=prediction.image_name)
    other_ms = (time.perf_counter() - started) * 1000
    served_ms = (prediction.contract.get("timing_ms") or {}).get("total")
    dish = prediction.contract.get("dish") or {}
    mm_per_px = float(dish.get("mm_per_px") or 0.05)
    compared, agreeing, mean = agreement(
        prediction.contract.get("plants") or [], result.to_dict().get("plants") or [], mm_per_px
    )
    canary = mode == Mode.CANARY  # the challenger answered; production ran afterwards
    row = Comparison.objects.create(
        deployment=deployment, mode=mode, prediction=prediction,
        production=other if canary else prediction.model_version,
        challenger=prediction.model_version if canary else other,
        tips_compared=compared, tips_agreeing=agreeing, mean_distance_mm=mean,
        production_ms=other_ms if canary else served_ms,
        challenger_ms=served_ms if canary else other_ms,
    )  # fmt: skip
    logger.info("%s comparison on prediction %s: %d/%d tips agree", mode, prediction.pk,
                agreeing, compared)  # fmt: skip
    return row.pk


def summary(deployment: Deployment, challenger: ModelVersion | None = None) -> dict[str, Any]:
    """Agreement and median latencies of a deployment's comparisons (of one challenger)."""
    rows = Comparison.objects.filter(deployment=deployment)
    if challenger is not None:
        rows = rows.filter(challenger=challenger)
    values: list[dict[str, Any]] = [
        dict(row)
        for row in rows.values("tips_compared", "tips_agreeing", "production_ms", "challenger_ms")
    ]
    compared = sum(v["tips_compared"] for v in values)

    def median(key: str) -> float | None:
        found = sorted(v[key] for v in values if v[key] is not None)
        return found[len(found) // 2] if found else None

    return {
        "comparisons": len(values),
        "tips_compared": compared,
        "agreement": sum(v["tips_agreeing"] for v in values) / compared if compared else None,
        "production_ms": median("production_ms"),
        "challenger_ms": median("challenger_ms"),
    }
