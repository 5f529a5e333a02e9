"""The portal's own pages: the dashboard, the health check and the API root.

Everything needs a logged-in user with a role (see
:mod:`portal.accounts.permissions`) except :func:`healthz`, the one deliberate
exception, so a load balancer or orchestrator can probe liveness.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from portal.accounts.permissions import Capability, capability_required
from visionkit import __version__

__all__ = ["api_root", "healthz", "home"]


@capability_required(Capability.READ)
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: empty for now, with the visionkit version and admin links."""
    return render(request, "home.html", {"visionkit_version": __version__})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: answers ``{"status": "ok"}`` without login and without touching the database.

    It says the process serves requests; readiness checks (database, queue)
    belong to a separate endpoint when the apps that need them arrive.
    """
    return JsonResponse({"status": "ok"})


@api_view(["GET"])
def api_root(request: Request) -> Response:
    """The API's entry point: the visionkit version, who is asking, and the endpoints."""
    return Response(
        {
            "visionkit": __version__,
            "user": request.user.get_username(),
            "endpoints": {"healthz": reverse("healthz", request=request)},
        }
    )
