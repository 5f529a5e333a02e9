"""Reads of the monitoring page: confidence and drift over time, alerts, deployments."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings

from portal.monitoring.models import Alert, DriftReport
from portal.registry.models import ModelVersion

__all__ = [
    "alerts",
    "confidence_by_day",
    "drift_series",
    "latest_drift",
    "monitored_versions",
    "open_alerts",
]


def monitored_versions() -> list[ModelVersion]:
    """Versions worth a chart: production first, then staging, per name."""
    found = ModelVersion.objects.filter(stage__in=("production", "staging"))
    return sorted(found, key=lambda v: (v.name, v.stage != "production", -v.pk))


def confidence_by_day(version: ModelVersion, days: int = 60) -> list[dict[str, Any]]:
    """Per day: predictions, mean image confidence and the share of tips at robot confidence."""
    threshold = float(settings.VISIONKIT_TIP_CONFIDENCE)
    rows = version.predictions.order_by("-created_at").values("created_at", "confidence",
                                                              "contract")[:2000]  # fmt: skip
    by_day: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"predictions": 0, "confidence": [], "tips": 0, "confident": 0}
    )
    for row in rows:
        day = by_day[row["created_at"].date().isoformat()]
        day["predictions"] += 1
        if row["confidence"] is not None:
            day["confidence"].append(row["confidence"])
        for plant in row["contract"].get("plants") or []:
            tip = plant.get("tip")
            if tip:
                day["tips"] += 1
                day["confident"] += (tip.get("confidence") or 0) >= threshold
    out = []
    for when, values in sorted(by_day.items())[-days:]:
        conf, tips = values["confidence"], values["tips"]
        out.append({
            "day": when,
            "predictions": values["predictions"],
            "image_confidence": round(sum(conf) / len(conf), 4) if conf else None,
            "confident_tips": round(values["confident"] / tips, 4) if tips else None,
        })  # fmt: skip
    return out


def drift_series(version: ModelVersion) -> list[dict[str, Any]]:
    """Every drift report's time, drifted share and verdict, oldest first."""
    rows = version.drift_reports.order_by("created_at").values("created_at", "drifted_share",
                                                               "drifted")  # fmt: skip
    return [{"at": r["created_at"].isoformat(), "share": r["drifted_share"],
             "drifted": r["drifted"]} for r in rows]  # fmt: skip


def latest_drift(version: ModelVersion) -> DriftReport | None:
    """The version's newest drift report."""
    return DriftReport.objects.filter(model_version=version).first()


def open_alerts() -> list[Alert]:
    """The alert episodes still open, newest first (the dashboard's card)."""
    return list(Alert.objects.select_related("model_version").filter(closed_at=None))


def alerts(limit: int = 20) -> list[Alert]:
    """Open alerts first, then the latest closed ones."""
    found = Alert.objects.select_related("model_version")
    return [*found.filter(closed_at=None), *found.exclude(closed_at=None)[:limit]]
