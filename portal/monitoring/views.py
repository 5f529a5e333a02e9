"""The monitoring page: deployments, confidence, drift and accuracy over time, alerts, retraining.

Thin views over :mod:`portal.monitoring.selectors` and the services of
serving and monitoring. Approvers set canary or shadow traffic here and roll
production back; operators check drift on demand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from portal.accounts.permissions import Capability, can, capability_required
from portal.accounts.selectors import acting_user
from portal.common.errors import PortalError
from portal.jobs.retraining import policy
from portal.monitoring import accuracy, selectors
from portal.monitoring.checks import check_drift_now
from portal.monitoring.drift import NotEnoughData
from portal.registry.models import ModelVersion
from portal.serving import services as serving
from portal.serving.comparisons import summary
from portal.serving.models import Deployment

__all__ = ["check_drift", "monitoring", "traffic"]


def _version_panel(version: ModelVersion) -> dict[str, Any]:
    return {
        "version": version,
        "series": {
            "confidence": selectors.confidence_by_day(version),
            "drift": selectors.drift_series(version),
            "accuracy": accuracy.by_day(version),
        },
        "drift": selectors.latest_drift(version),
        "accuracy": accuracy.window(version, 100),
        "evaluations": version.evaluations.select_related("dataset")[:10],
    }


@capability_required(Capability.READ)
@require_safe
def monitoring(request: HttpRequest) -> HttpResponse:
    """Everything that keeps the deployed model good, on one page."""
    deployments = []
    for deployment in Deployment.objects.select_related("blue", "green", "challenger"):
        deployments.append({
            "deployment": deployment,
            "comparisons": summary(deployment, deployment.challenger),
            "events": deployment.events.select_related("by", "model_version")[:10],
            "staging": ModelVersion.objects.filter(name=deployment.name, stage="staging"),
        })  # fmt: skip
    panels = [_version_panel(v) for v in selectors.monitored_versions()]
    context = {
        "deployments": deployments,
        "panels": panels,
        "charts": {str(p["version"].pk): p["series"] for p in panels},
        "alerts": selectors.alerts(),
        "policy": policy(),
        "can_traffic": can(request.user, Capability.PROMOTE),
        "can_rollback": can(request.user, Capability.ROLLBACK),
        "can_check": can(request.user, Capability.RUN_JOBS),
    }
    return render(request, "monitoring/monitoring.html", context)


@capability_required(Capability.RUN_JOBS)
@require_POST
def check_drift(request: HttpRequest, pk: int) -> HttpResponse:
    """Test a version's drift now; the result shows on the page."""
    version = get_object_or_404(ModelVersion, pk=pk)
    try:
        report = check_drift_now(version, trigger="demand")
    except NotEnoughData as exc:
        messages.error(request, str(exc))
    else:
        verdict = "drift found" if report.drifted else "no drift"
        messages.success(request, f"v{version.version}: {verdict} ({report.n_current} plates "
                                  f"against {report.n_reference} reference plates).")  # fmt: skip
    return redirect("monitoring")


@capability_required(Capability.PROMOTE)
@require_POST
def traffic(request: HttpRequest, name: str) -> HttpResponse:
    """Give a staging version canary or shadow traffic, or stop it."""
    version_id = request.POST.get("version") or ""
    version = (
        ModelVersion.objects.filter(pk=int(version_id)).first() if version_id.isdigit() else None
    )
    try:
        share = float(request.POST.get("share") or 0) / 100
        serving.set_traffic(version=version, name=name, mode=request.POST.get("mode", "off"),
                            share=share, user=acting_user(request),
                            reason=request.POST.get("reason", "").strip())  # fmt: skip
    except (PortalError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, f"{name}: traffic updated.")
    return redirect("monitoring")
