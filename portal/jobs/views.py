"""The jobs' pages: start a training or evaluation job, watch it move, cancel it.

Thin views over :mod:`portal.jobs.services`; the job page polls its status
fragment with htmx every two seconds until the job ends. The start form
shows a training job's planned cost (:mod:`portal.jobs.estimates`), which
htmx refreshes from :func:`job_estimate` whenever a field changes.
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
from portal.jobs import estimates, selectors, services
from portal.jobs.models import Job
from portal.registry.selectors import model_versions

__all__ = ["cancel", "job_detail", "job_estimate", "job_list", "job_status"]

#: The start form's fields: name -> (label, default, minimum, kinds that take it).
FIELDS: dict[str, tuple[str, int, int, tuple[str, ...]]] = {
    "epochs": ("Epochs", 2, 1, ("train",)),
    "patches_per_epoch": ("Patches per epoch", 64, 1, ("train",)),
    "patch_size": ("Patch size (px)", 256, 32, ("train",)),
    "batch_size": ("Batch size", 8, 1, ("train",)),
    "limit": ("Plates to score (empty: all)", 0, 1, ("evaluate",)),
}

#: Where a training job may run, as the form names it.
BACKENDS = {"local": "this server's worker", "azureml": "Azure ML"}


def _whole(label: str, text: str, minimum: int, problems: list[str]) -> int | None:
    try:
        value = int(text)
    except ValueError:
        problems.append(f"{label}: write a whole number, not {text!r}")
        return None
    if value < minimum:
        problems.append(f"{label}: at least {minimum}")
        return None
    return value


def _placement(posted: Any, problems: list[str]) -> dict[str, Any]:
    """``backend`` and, for Azure ML, ``vm_size`` and ``nodes`` from the form."""
    backend = str(posted.get("backend", "") or "local").strip()
    if backend not in BACKENDS:
        problems.append(f"Runs on: one of {', '.join(BACKENDS)}, not {backend!r}")
        return {}
    if backend == "local":
        return {}
    missing = estimates.azureml_missing()
    if missing:
        problems.append("Runs on: Azure ML is not configured here (set " + ", ".join(missing) + ")")
        return {}
    placement: dict[str, Any] = {"backend": backend}
    vm_size = str(posted.get("vm_size", "")).strip()
    if vm_size:
        if vm_size not in estimates.vm_sizes():
            problems.append(f"VM size: {vm_size!r} is not in the price table; "
                            f"priced: {', '.join(estimates.vm_sizes())}")  # fmt: skip
        else:
            placement["vm_size"] = vm_size
    nodes = str(posted.get("nodes", "")).strip()
    if nodes:
        value = _whole("Nodes", nodes, 1, problems)
        if value is not None:
            placement["nodes"] = value
    return placement


def _parameters(kind: str, posted: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    problems: list[str] = []
    for name, (label, _, minimum, kinds) in FIELDS.items():
        text = str(posted.get(name, "")).strip()
        if kind not in kinds or not text:
            continue
        value = _whole(label, text, minimum, problems)
        if value is not None:
            params[name] = value
    if kind == "train":
        params.update(_placement(posted, problems))
    if problems:
        raise PortalError("the job was not started: " + "; ".join(problems), problems=problems)
    return params


def _estimate(posted: Any) -> dict[str, Any]:
    """The estimate fragment's context: the planned cost, or why there is none."""
    kind = str(posted.get("kind", "") or "train")
    if kind != "train":
        return {"note": "Only training jobs are priced."}
    try:
        return {"planned": estimates.planned_cost(_parameters("train", posted))}
    except PortalError as exc:
        return {"problem": exc.message.removeprefix("the job was not started: ")}


def _start_form() -> dict[str, Any]:
    """What the start form offers: fields, backends, VM sizes, and whether Azure ML is set up."""
    missing = estimates.azureml_missing()
    return {
        "fields": [(name, *spec) for name, spec in FIELDS.items()],
        "backends": BACKENDS, "azureml_missing": missing, "vm_sizes": estimates.vm_sizes(),
        "default_vm_size": estimates.default_vm_size(),
    }  # fmt: skip


@capability_required(Capability.READ)
@require_http_methods(["GET", "POST"])
def job_list(request: HttpRequest) -> HttpResponse:
    """Jobs, newest first, and (for operators) the form that starts one."""
    context: dict[str, Any] = {
        "jobs": selectors.jobs().order_by("-id")[:50], "datasets": datasets().order_by("-id"),
        "models": model_versions().order_by("name", "-registered_at"),
        "can_run": can(request.user, Capability.RUN_JOBS), "posted": request.POST,
        **_start_form(),
    }  # fmt: skip
    if request.method == "GET":
        context.update(_estimate({name: str(spec[1]) for name, spec in FIELDS.items()}))
        return render(request, "jobs/list.html", context)
    context.update(_estimate(request.POST))
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
def job_estimate(request: HttpRequest) -> HttpResponse:
    """The start form's estimate line for its current values (htmx asks on every change).

    A bad value answers 200 with the problem in the line, so htmx swaps it in
    in place of a stale estimate.
    """
    return render(request, "jobs/_estimate.html", _estimate(request.GET))


def _job_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    return {
        "job": job, "can_run": can(request.user, Capability.RUN_JOBS),
        "planned": estimates.stored_plan(job.result), "actual": estimates.actual_cost(job.result),
    }  # fmt: skip


@capability_required(Capability.READ)
@require_safe
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: status, progress, the log tail and the result, live while it runs."""
    job = get_object_or_404(selectors.jobs(), pk=pk)
    return render(request, "jobs/detail.html", _job_context(request, job))


@capability_required(Capability.READ)
@require_safe
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the job page (htmx swaps it in every two seconds while the job runs)."""
    job = get_object_or_404(selectors.jobs(), pk=pk)
    return render(request, "jobs/_status.html", _job_context(request, job))


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
