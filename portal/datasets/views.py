"""The data sets' pages: upload a zip and see every problem, browse the images with their masks.

Thin views over :mod:`portal.datasets.services`, :mod:`portal.datasets.selectors`
and :mod:`portal.datasets.previews`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from portal.accounts.permissions import Capability, can, capability_required
from portal.accounts.selectors import acting_user
from portal.common.errors import PortalError
from portal.common.uploads import human_size
from portal.datasets import previews, selectors, services

__all__ = ["dataset_detail", "dataset_list", "dataset_preview"]


@capability_required(Capability.READ)
@require_http_methods(["GET", "POST"])
def dataset_list(request: HttpRequest) -> HttpResponse:
    """Stored versions, and (for operators) the zip upload; a refused zip lists every problem."""
    from django.conf import settings

    context: dict[str, Any] = {
        "datasets": selectors.datasets().order_by("-created_at"),
        "can_upload": can(request.user, Capability.UPLOAD),
        "limit_shown": human_size(int(settings.VISIONKIT_MAX_DATASET_BYTES)),
        "problems": [],
    }
    if request.method == "GET":
        return render(request, "datasets/list.html", context)
    if not context["can_upload"]:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("uploading a data set needs the operator role")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a zip of plate images and their masks.")
        return render(request, "datasets/list.html", context, status=400)
    try:
        dataset, created = services.create_dataset_from_zip(
            upload=upload, name=request.POST.get("name", ""),
            description=request.POST.get("description", ""), user=acting_user(request),
        )  # fmt: skip
    except PortalError as exc:
        messages.error(request, exc.message)
        context["problems"] = exc.problems
        return render(request, "datasets/list.html", context, status=exc.status_code)
    said = "stored as a new version" if created else "the same files are stored already"
    messages.success(request, f"{dataset.name}: {said} ({dataset.version[:12]}).")
    return redirect("dataset", pk=dataset.pk)


@capability_required(Capability.READ)
@require_safe
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One version: its manifest figures, warnings, and its plates with their masks."""
    dataset = get_object_or_404(selectors.datasets(), pk=pk)
    page = Paginator(previews.plates(dataset), 12).get_page(request.GET.get("page"))
    context = {"dataset": dataset, "page": page,
               "shares": sorted((dataset.manifest.get("class_shares") or {}).items())}  # fmt: skip
    return render(request, "datasets/detail.html", context)


@capability_required(Capability.READ)
@require_safe
@cache_control(private=True, max_age=3600)
def dataset_preview(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """A plate of the data set with its masks drawn over it (PNG)."""
    dataset = get_object_or_404(selectors.datasets(), pk=pk)
    try:
        return HttpResponse(previews.preview_png(dataset, index), content_type="image/png")
    except PortalError as exc:
        raise Http404(exc.message) from exc
