"""The jobs' pages: start a training or evaluation job, watch it move, cancel it.

Thin views over :mod:`portal.jobs.services`; the job page polls its status
fragment with htmx every two seconds until the job ends.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.accounts.permissions import Capability, can, capability_required
from portal.accounts.selectors import acting_user
from portal.common.errors import PortalError
from portal.datasets.selectors import datasets
from portal.jobs import selectors, services
from portal.registry.selectors import model_versions

__all__ = ["cancel", "job_detail", "job_list", "job_status"]

#: The start form's fields: name -> (label, default, minimum, kinds that take it).
FIELDS: dict[str, tuple[str, int, int, tuple[str, ...]]] = {
    "epochs": ("Epochs", 2, 1, ("train",)),
    "patches_per_epoch": ("Patches per epoch", 64, 1, ("train",)),
    "patch_size": ("Patch size (px)", 256, 32, ("train",)),
    "batch_size": ("Batch size", 8, 1, ("train",)),
    "limit": ("Plates to score (empty: all)", 0, 1, ("evaluate",)),
}


def _parameters(kind: str, posted: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    problems = []
    for name, (label, _, minimum, kinds) in FIELDS.items():
        text = str(posted.get(name, "")).strip()
        if kind not in kinds or not text:
            continue
        try:
            value = int(text)
        except ValueError:
            problems.append(f"{label}: write a whole number, not {text!r}")
            continue
        if value < minimum:
            problems.append(f"{label}: at least {minimum}")
            continue
        params[name] = value
    if problems:
        raise PortalError("the job was not started: " + "; ".join(problems), problems=problems)
    return params


@capability_required(Capability.READ)
@require_http_methods(["GET", "POST"])
def job_list(request: HttpRequest) -> HttpResponse:
    """Jobs, newest first, and (for operators) the form that starts one."""
    context: dict[str, Any] = {
        "jobs": selectors.jobs().order_by("-id")[:50], "datasets": datasets().order_by("-id"),
        "models": model_versions().order_by("name", "-registered_at"),
        "fields": [(name, *spec) for name, spec in FIELDS.items()],
        "can_run": can(request.user, Capability.RUN_JOBS), "posted": request.POST,
    }  # fmt: skip
    if request.method == "GET":
        return render(request, "jobs/list.html", context)
    if not context["can_run"]:
        raise PermissionDenied("starting a job needs the operator role")
    kind = request.POST.get("kind", "")
    try:
        dataset = datasets().filter(pk=request.POST.get("dataset") or 0).first()
        model = model_versions().filter(pk=request.POST.get("model") or 0).first()
        job = services.submit_job(kind=kind, user=acting_user(request), dataset=dataset,
                                  model_version=model if kind == "evaluate" else None,
                                  parameters=_parameters(kind, request.POST))  # fmt: skip
    except PortalError as exc:
        messages.error(request, exc.message)
        return render(request, "jobs/list.html", context, status=exc.status_code)
    messages.success(request, f"{job.kind} job {job.pk} queued.")
    return redirect("job", pk=job.pk)


@capability_required(Capability.READ)
@require_safe
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: status, progress, the log tail and the result, live while it runs."""
    job = get_object_or_404(selectors.jobs(), pk=pk)
    context = {"job": job, "can_run": can(request.user, Capability.RUN_JOBS)}
    return render(request, "jobs/detail.html", context)


@capability_required(Capability.READ)
@require_safe
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the job page (htmx swaps it in every two seconds while the job runs)."""
    job = get_object_or_404(selectors.jobs(), pk=pk)
    context = {"job": job, "can_run": can(request.user, Capability.RUN_JOBS)}
    return render(request, "jobs/_status.html", context)


@capability_required(Capability.RUN_JOBS)
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a queued job, or ask a running one to stop."""
    job = get_object_or_404(selectors.jobs(), pk=pk)
    try:
        services.cancel_job(job=job, user=acting_user(request))
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"job {job.pk}: cancel asked; it stops within seconds.")
    return redirect("job", pk=pk)
