"""The monitoring checks: drift and live accuracy of each production version, alerting on both.

:func:`run_checks` is what the django-q2 schedule calls (hourly, see
:mod:`portal.jobs.schedules`); :func:`check_drift_now` is the on-demand check
of the page and the API. A version with too little data is reported, not
alerted on.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from portal.monitoring import accuracy, alerts
from portal.monitoring.drift import NotEnoughData, check_drift
from portal.monitoring.models import AlertKind, DriftReport
from portal.registry.models import ModelVersion, Stage

__all__ = ["check_accuracy", "check_drift_now", "run_checks"]

logger = logging.getLogger(__name__)


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def check_drift_now(version: ModelVersion, *, trigger: str = "demand") -> DriftReport:
    """Test drift of ``version`` and alert when it drifted (once per episode).

    Raises:
        NotEnoughData: no reference, or too few predictions.
    """
    report = check_drift(version, trigger=trigger)
    drifted = [f["feature"] for f in report.features if f["drifted"]]
    alerts.observe(
        kind=AlertKind.DRIFT, version=version, crossed=report.drifted,
        summary=(f"{version.name} v{version.version}: input drift in {len(drifted)} of "
                 f"{len(report.features)} features ({', '.join(drifted)})"),
        evidence={
            "drift_report_id": report.pk,
            "n_reference": report.n_reference,
            "n_current": report.n_current,
            "drifted_share": report.drifted_share,
            "share_threshold": settings.VISIONKIT_DRIFT_SHARE,
            "features": report.features,
            "window": [_iso(report.first_prediction_at), _iso(report.last_prediction_at)],
        },
    )  # fmt: skip
    return report


def check_accuracy(version: ModelVersion) -> dict[str, Any]:
    """Live tip accuracy of ``version``'s latest window, alerting below the threshold."""
    summary = accuracy.window(version, int(settings.VISIONKIT_ACCURACY_WINDOW))
    threshold = float(settings.VISIONKIT_ALERT_TIPS_WITHIN_1MM)
    enough = summary["tips"] >= int(settings.VISIONKIT_ACCURACY_MIN_TIPS)
    crossed = enough and summary["within_1mm"] is not None and summary["within_1mm"] < threshold
    if enough:
        alerts.observe(
            kind=AlertKind.ACCURACY, version=version, crossed=crossed,
            summary=(f"{version.name} v{version.version}: {summary['within_1mm']:.0%} of the "
                     f"last {summary['tips']} reviewed tips within 1 mm (alert below "
                     f"{threshold:.0%})"),
            evidence=summary | {"threshold": threshold},
        )  # fmt: skip
    return summary | {"alerting": crossed}


def run_checks() -> dict[str, Any]:
    """Drift and accuracy of every production version (the schedule's task)."""
    done: dict[str, Any] = {}
    for version in ModelVersion.objects.filter(stage=Stage.PRODUCTION):
        key = f"{version.name} v{version.version}"
        try:
            report = check_drift_now(version, trigger="schedule")
            done[key] = {"drifted": report.drifted}
        except NotEnoughData as exc:
            done[key] = {"drift": str(exc)}
        done[key]["accuracy"] = check_accuracy(version)
    logger.info("monitoring checks: %s", done)
    return done
