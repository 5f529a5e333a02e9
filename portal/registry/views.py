"""The registry's pages: versions side by side, one version's lineage and trail, promote, roll back.

Thin views over :mod:`portal.registry.services` and :mod:`portal.registry.selectors`.
Promote and roll back are shown to approvers only, and each says, before the
confirmation, what will change.
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
from portal.registry import mlflow_sync, selectors, services
from portal.registry.gates import latest_gate, submit_gate
from portal.registry.metrics import HEADLINE, formatted
from portal.registry.models import ModelVersion, Stage

__all__ = ["gate", "model_list", "model_version", "promote", "rollback"]


@capability_required(Capability.READ)
@require_safe
def model_list(request: HttpRequest) -> HttpResponse:
    """Every version with its stage and metrics side by side, newest first per name."""
    versions = list(selectors.model_versions().order_by("name", "-registered_at"))
    keys = [key for key in HEADLINE if any(formatted(v.metrics, key) for v in versions)]
    rows = [{"version": v, "cells": [formatted(v.metrics, k) or "–" for k in keys]}
            for v in versions]  # fmt: skip
    context = {"rows": rows, "headings": [HEADLINE[k][0] for k in keys]}
    return render(request, "registry/list.html", context)


def _moves(version: ModelVersion) -> list[dict[str, str]]:
    """The stages ``version`` may move to, each with what the move will change."""
    current = selectors.production_version(version.name)
    out = []
    for stage in sorted(services.MOVES[version.stage]):
        if stage == Stage.PRODUCTION and current is not None:
            effect = (f"v{version.version} goes into production for every prediction; "
                      f"v{current.version}, in production now, is archived")  # fmt: skip
        elif stage == Stage.PRODUCTION:
            effect = f"v{version.version} goes into production for every prediction"
        elif version.stage == Stage.PRODUCTION:
            effect = f"{version.name} will have no version in production: predictions stop"
        else:
            effect = f"v{version.version} moves from {version.stage} to {stage}"
        out.append({"stage": stage, "effect": effect})
    return out


@capability_required(Capability.READ)
@require_safe
def model_version(request: HttpRequest, pk: int) -> HttpResponse:
    """One version: metrics, training curves from its MLflow run, lineage, the audit trail."""
    version = get_object_or_404(selectors.model_versions(), pk=pk)
    curves = mlflow_sync.training_curves(version.mlflow_run_id)
    params = (version.config.get("extra") or {}).get("train_config") or {}
    shown_params = {k: v for k, v in params.items() if k not in ("data_dir", "val_dir", "out_dir")}
    context: dict[str, Any] = {
        "version": version, "trail": selectors.audit_trail(version),
        "metrics": sorted((k, v) for k, v in version.metrics.items() if isinstance(v, int | float)),
        "curves": curves, "params": shown_params,
        "moves": _moves(version) if can(request.user, Capability.PROMOTE) else [],
        "can_rollback": (can(request.user, Capability.ROLLBACK)
                         and version.stage == Stage.PRODUCTION),
        "gate": latest_gate(version),
        "can_gate": can(request.user, Capability.RUN_JOBS) and version.stage == Stage.CANDIDATE,
    }  # fmt: skip
    return render(request, "registry/detail.html", context)


@capability_required(Capability.PROMOTE)
@require_POST
def promote(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a version to the chosen stage with the reason typed (the audit trail keeps both)."""
    version = get_object_or_404(selectors.model_versions(), pk=pk)
    try:
        moved = services.promote(model_version=version, stage=request.POST.get("stage", ""),
                                 reason=request.POST.get("reason", "").strip(),
                                 user=acting_user(request))  # fmt: skip
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{moved.name} v{moved.version} is now in {moved.stage}.")
    return redirect("model-version", pk=pk)


@capability_required(Capability.ROLLBACK)
@require_POST
def rollback(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring back the version that was in production before this one."""
    version = get_object_or_404(selectors.model_versions(), pk=pk)
    try:
        restored = services.rollback(name=version.name,
                                     reason=request.POST.get("reason", "").strip(),
                                     user=acting_user(request))  # fmt: skip
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("model-version", pk=pk)
    messages.success(request, f"{restored.name} v{restored.version} is in production again.")
    return redirect("model-version", pk=restored.pk)


@capability_required(Capability.RUN_JOBS)
@require_POST
def gate(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the version's gate job and go to it."""
    version = get_object_or_404(selectors.model_versions(), pk=pk)
    try:
        job = submit_gate(candidate=version, user=acting_user(request))
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("model-version", pk=pk)
    messages.success(request, f"Gate job {job.pk} queued for v{version.version}.")
    return redirect("job", pk=job.pk)
