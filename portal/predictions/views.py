"""The predictions' pages: the list, upload-and-predict, and the plate viewer.

Thin views over :mod:`portal.predictions.services` and
:mod:`portal.predictions.selectors`, the same the API calls; the viewer's
script (``static/portal/viewer.js``) reads the page's JSON and the API's
image, mask and export routes with the session.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from portal.accounts.permissions import Capability, can, capability_required
from portal.accounts.selectors import acting_user
from portal.common.errors import PortalError
from portal.common.uploads import human_size, max_upload_bytes
from portal.predictions import selectors, services
from portal.predictions.exports import file_formats
from portal.predictions.filters import PredictionFilter
from portal.predictions.flags import review_reasons, tip_is_actionable
from portal.predictions.models import Prediction, Source
from portal.predictions.reviews import latest_review

__all__ = ["prediction_list", "upload", "viewer"]

logger = logging.getLogger(__name__)

#: The filters the page shows (PredictionFilter takes all of the API's as well).
_FILTERS = ("experiment", "plate", "condition", "replicate")


@capability_required(Capability.READ)
@require_safe
def prediction_list(request: HttpRequest) -> HttpResponse:
    """Every prediction, newest first, filtered by the Hades name fields, flagged for review."""
    rows = PredictionFilter(request.GET, queryset=selectors.predictions()).qs  # as the API filters
    chosen = {key: request.GET.get(key, "").strip() for key in _FILTERS}
    page = Paginator(rows, 24).get_page(request.GET.get("page"))
    items = [{"prediction": p, "reasons": review_reasons(p)} for p in page]
    if request.GET.get("review") == "1":
        items = [item for item in items if item["reasons"]]
    context = {"page": page, "items": items, "chosen": chosen,
               "review_only": request.GET.get("review") == "1",
               "can_predict": can(request.user, Capability.PREDICT)}  # fmt: skip
    return render(request, "predictions/list.html", context)


@capability_required(Capability.PREDICT)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Drop one plate (opens it in the viewer) or several (one batch job); errors say what to do."""
    limit = max_upload_bytes()
    from portal.calibrations.services import calibration_names

    context: dict[str, Any] = {"limit": limit, "limit_shown": human_size(limit),
                               "calibrations": calibration_names()}  # fmt: skip
    if request.method == "GET":
        return render(request, "predictions/upload.html", context)
    files = request.FILES.getlist("images")
    if not files:
        messages.error(request, "Choose or drop at least one plate image (PNG, JPEG, TIFF, BMP).")
        return render(request, "predictions/upload.html", context, status=400)
    user = acting_user(request)
    calibration = request.POST.get("calibration") or None
    try:
        if len(files) == 1:
            made = services.create_prediction(image=files[0], image_name=files[0].name or "",
                                              user=user, calibration=calibration,
                                              source=Source.PAGE)  # fmt: skip
            return redirect("prediction", pk=made.pk)
        job = services.create_batch(files=files, user=user, calibration=calibration)
    except PortalError as exc:
        messages.error(request, exc.message)
        return render(request, "predictions/upload.html", context, status=exc.status_code)
    messages.success(request, f"{len(files)} plates are being predicted (job {job.pk}); "
                              "they appear here as they finish.")  # fmt: skip
    return redirect(reverse("prediction-list"))


def _plant_rows(prediction: Prediction) -> list[dict[str, Any]]:
    mm = (prediction.contract.get("dish") or {}).get("mm_per_px")
    rows = []
    for plant in prediction.contract.get("plants") or []:
        tip = plant.get("tip")
        rows.append({
            "plant": plant["plant"], "tip": tip, "start": plant.get("start"),
            "tip_mm": ({"x": tip["x"] * mm, "y": tip["y"] * mm} if tip and mm else None),
            "robot": plant.get("robot"), "length_mm": plant.get("primary_root_length_mm"),
            "reason": plant.get("reason") or "",
            "actionable": tip_is_actionable(tip),
        })  # fmt: skip
    return rows


@capability_required(Capability.READ)
@require_safe
def viewer(request: HttpRequest, pk: int) -> HttpResponse:
    """One plate at full resolution: mask layers, tips and starts, the plant table, downloads."""
    prediction = get_object_or_404(selectors.predictions(), pk=pk)
    masks = {cls: reverse("predictions:mask", args=[pk, cls]) for cls in prediction.mask_classes}
    review = latest_review(prediction)
    data = {
        "review": {"number": review.number, "plants": review.plants} if review else None,
        "review_url": reverse("predictions:review", args=[pk]),
        "can_review": can(request.user, Capability.REVIEW),
        "image": reverse("predictions:image", args=[pk]),
        "width": prediction.width, "height": prediction.height, "masks": masks,
        "plants": prediction.contract.get("plants") or [],
        "threshold": settings.VISIONKIT_TIP_CONFIDENCE,
    }  # fmt: skip
    downloads = [(fmt, reverse("predictions:export", args=[pk]) + f"?format={fmt}")
                 for fmt in file_formats()]  # fmt: skip
    context = {
        "prediction": prediction, "rows": _plant_rows(prediction), "data": data,
        "reasons": review_reasons(prediction), "downloads": downloads,
        "threshold": settings.VISIONKIT_TIP_CONFIDENCE,
        "overlay": reverse("predictions:overlay", args=[pk]), "masks": masks,
        "review": review, "can_review": data["can_review"],
    }  # fmt: skip
    return render(request, "predictions/viewer.html", context)
