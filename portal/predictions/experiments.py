"""Experiments: predictions grouped by their Hades file-name fields, root length by condition.

A Hades name carries the experiment, plate, imaging date, condition and
replicate; the portal keeps them on each prediction. This module reads them
back as the tables a plant scientist asks for: one row per plant with its
primary-root length, a summary per condition (the spread), and the growth of
one plate's roots over its imaging dates. Only plants with a measured root
count; a reviewer's rejection removes the plant's tip, not its length.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, Min, QuerySet

from portal.predictions.models import Prediction

__all__ = ["condition_summary", "experiments", "growth", "plant_rows", "rows_csv"]

CSV_COLUMNS = ("experiment", "plate", "date", "condition", "replicate", "plant",
               "primary_root_length_mm", "tip_confidence", "prediction_id", "image")  # fmt: skip


def experiments() -> QuerySet[Any]:
    """One row per experiment: plates, predictions and the dates it spans."""
    return (
        Prediction.objects.exclude(experiment="")
        .values("experiment")
        .annotate(
            plates=Count("plate", distinct=True),
            predictions=Count("id"),
            conditions=Count("condition", distinct=True),
            first=Min("imaged_on"),
            last=Max("imaged_on"),
        )
        .order_by("experiment")
    )


def plant_rows(experiment: str) -> list[dict[str, Any]]:
    """Every measured plant of ``experiment``, by plate, date and plant number."""
    rows: list[dict[str, Any]] = []
    predictions = Prediction.objects.filter(experiment=experiment).order_by(
        "plate", "imaged_on", "id"
    )
    for prediction in predictions:
        for plant in prediction.contract.get("plants") or []:
            length = plant.get("primary_root_length_mm")
            if length is None:
                continue
            tip = plant.get("tip") or {}
            rows.append({
                "experiment": experiment, "plate": prediction.plate,
                "date": prediction.imaged_on.isoformat() if prediction.imaged_on else "",
                "condition": prediction.condition or "(none)", "replicate": prediction.replicate,
                "plant": plant["plant"], "primary_root_length_mm": float(length),
                "tip_confidence": tip.get("confidence"), "prediction_id": prediction.pk,
                "image": prediction.image_name,
            })  # fmt: skip
    return rows


def condition_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per condition: plants, mean, median, spread (min, max, standard deviation) in mm."""
    by_condition: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_condition[row["condition"]].append(row["primary_root_length_mm"])
    summary = []
    for condition, lengths in sorted(by_condition.items()):
        summary.append({
            "condition": condition, "n": len(lengths), "mean": statistics.fmean(lengths),
            "median": statistics.median(lengths), "min": min(lengths), "max": max(lengths),
            "sd": statistics.stdev(lengths) if len(lengths) > 1 else 0.0, "lengths": lengths,
        })  # fmt: skip
    return summary


def growth(rows: list[dict[str, Any]], plate: str) -> list[dict[str, Any]]:
    """``plate``'s median primary-root length per imaging date, oldest first."""
    by_date: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["plate"] == plate and row["date"]:
            by_date[row["date"]].append(row["primary_root_length_mm"])
    return [{"date": date, "median": statistics.median(values), "n": len(values)}
            for date, values in sorted(by_date.items())]  # fmt: skip


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """The plant table as CSV, one row per plant."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
