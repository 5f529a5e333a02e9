"""The calibration page: click fiducials on a plate, type their robot coordinates, fit, save.

The points travel in the form as JSON; each "Fit" re-renders the page with
every point's error in millimetres and the warnings, and "Save" stores the
fit under a name (operators). Thin over :mod:`portal.calibrations.services`.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.accounts.permissions import Capability, can, capability_required
from portal.accounts.selectors import acting_user
from portal.calibrations import services
from portal.calibrations.models import SavedCalibration
from portal.common.errors import PortalError
from portal.predictions.selectors import predictions

__all__ = ["calibrations"]


def _points(text: str) -> list[dict[str, Any]]:
    try:
        points = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise PortalError("the points could not be read; click them on the plate again") from exc
    if not isinstance(points, list):
        raise PortalError("the points could not be read; click them on the plate again")
    return [p for p in points if isinstance(p, dict)]


@capability_required(Capability.READ)
@require_http_methods(["GET", "POST"])
def calibrations(request: HttpRequest) -> HttpResponse:
    """Saved calibrations, and the fitting form on a chosen plate's image."""
    plates = predictions().order_by("-created_at")[:30]
    chosen = request.GET.get("plate") or request.POST.get("plate") or ""
    plate = next((p for p in plates if str(p.pk) == chosen), plates[0] if plates else None)
    context: dict[str, Any] = {
        "saved": SavedCalibration.objects.select_related("created_by"),
        "plates": plates, "plate": plate,
        "image_url": reverse("predictions:image", args=[plate.pk]) if plate else "",
        "can_save": can(request.user, Capability.REGISTER),
        "points": [], "fit": None, "frame": request.POST.get("frame", "ot2"),
        "name": request.POST.get("name", ""),
    }  # fmt: skip
    if request.method == "GET":
        return render(request, "calibrations/page.html", context)
    try:
        context["points"] = points = _points(request.POST.get("points", ""))
        if request.POST.get("action") == "save":
            if not context["can_save"]:
                raise PortalError("saving a calibration needs the operator role")
            saved = services.save(name=request.POST.get("name", "").strip(), points=points,
                                  frame=context["frame"], user=acting_user(request))  # fmt: skip
            said = f"calibration {saved.name} saved ({saved.residual_mm:.2f} mm RMS)"
            messages.success(request, f"{said}; predictions can use it.")
            return redirect(reverse("calibrations") + f"?plate={plate.pk if plate else ''}")
        fitted = services.fit(points=points, frame=context["frame"])
        context["fit"] = fitted
        context["rows"] = list(zip(points, fitted.errors_mm, strict=True))
    except PortalError as exc:
        messages.error(request, exc.message)
        return render(request, "calibrations/page.html", context, status=exc.status_code)
    return render(request, "calibrations/page.html", context)
