"""The portal's own pages: the dashboard, the health check and the API root.

Everything needs a logged-in user with a role (see
:mod:`portal.accounts.permissions`) except :func:`healthz`, the one deliberate
exception, so a load balancer or orchestrator can probe liveness.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from portal.accounts.permissions import Capability, can, capability_required, require
from portal.monitoring.selectors import open_alerts
from visionkit import __version__

__all__ = ["api_root", "healthz", "home", "readyz"]

logger = logging.getLogger(__name__)


@capability_required(Capability.READ)
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: the model in production, running jobs, plates to review, recent plates."""
    from portal.jobs.selectors import running
    from portal.predictions.flags import review_reasons
    from portal.predictions.loader import production_version
    from portal.predictions.selectors import predictions
    from portal.registry.metrics import headline
    from portal.registry.selectors import audit_trail

    production = production_version()
    promoted_by = None
    metrics: list[tuple[str, str]] = []
    if production is not None:
        last = audit_trail(production).filter(to_stage="production").first()
        promoted_by = last.changed_by if last is not None else None
        metrics = headline(production.metrics)
    latest = list(predictions()[:48])
    items = [{"prediction": p, "reasons": review_reasons(p)} for p in latest]
    context = {
        "visionkit_version": __version__, "production": production, "promoted_by": promoted_by,
        "metrics": metrics,
        "jobs": running().order_by("-id")[:10],
        "recent": items[:8], "waiting": [item for item in items if item["reasons"]][:8],
        "can_predict": can(request.user, Capability.PREDICT),
        "alerts": open_alerts()[:5],
    }  # fmt: skip
    return render(request, "home.html", context)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: answers ``{"status": "ok"}`` without login and without touching the database.

    It says the process serves requests; :func:`readyz` says whether it can
    do its work.
    """
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def _check_queue() -> str:
    from django_q.brokers import get_broker

    broker = get_broker()
    if not broker.ping():
        raise RuntimeError("the job queue's broker does not answer")
    return type(broker).__name__


def _check_model() -> str:
    from portal.predictions import loader

    version = loader.production_version()
    if version is None:
        raise RuntimeError("no model version is in production: promote one (manage.py promote)")
    loader.get_predictor(version)
    return f"{version.name} v{version.version}"


_CHECKS: dict[str, Callable[[], str]] = {
    "database": _check_database,
    "queue": _check_queue,
    "model": _check_model,
}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers, the job queue answers, the production model loads.

    200 with ``{"status": "ok", "checks": {...}}`` when all three hold, 503
    naming what failed otherwise, without login (probes carry no
    credentials); the model is loaded once per process and kept, so a probe
    after the first costs a lookup.
    """
    checks: dict[str, dict[str, str]] = {}
    for name, check in _CHECKS.items():
        try:
            checks[name] = {"status": "ok", "detail": check()}
        except Exception as exc:  # a probe reports every failure; it never raises
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = {"status": "failed", "detail": str(exc) or type(exc).__name__}
    ready = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@extend_schema(
    responses={200: OpenApiResponse(description="the visionkit version, caller and endpoints")},
    summary="API root",
)
@api_view(["GET"])
@permission_classes([require(Capability.READ)])
def api_root(request: Request) -> Response:
    """The API's entry point: the visionkit version, who is asking, and the endpoints."""
    return Response(
        {
            "visionkit": __version__,
            "user": request.user.get_username(),
            "endpoints": {
                "healthz": reverse("healthz", request=request),
                "readyz": reverse("readyz", request=request),
                "schema": reverse("schema", request=request),
                "docs": reverse("api-docs", request=request),
                "token": reverse("accounts:token", request=request),
                "models": reverse("registry:list", request=request),
                "datasets": request.build_absolute_uri("/api/datasets/"),
                "jobs": request.build_absolute_uri("/api/jobs/"),
                "predictions": request.build_absolute_uri("/api/predictions/"),
            },
        }
    )
