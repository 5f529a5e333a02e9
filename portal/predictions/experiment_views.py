"""The experiments' pages, over :mod:`portal.predictions.experiments`."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from portal.accounts.permissions import Capability, capability_required
from portal.predictions import experiments as reads

__all__ = ["experiment", "experiment_list"]


@capability_required(Capability.READ)
@require_safe
def experiment_list(request: HttpRequest) -> HttpResponse:
    """Every experiment the predictions' Hades names name."""
    return render(request, "experiments/list.html", {"experiments": reads.experiments()})


@capability_required(Capability.READ)
@require_safe
def experiment(request: HttpRequest, name: str) -> HttpResponse:
    """One experiment: root length per plant by condition, its spread, a plate's growth; CSV."""
    rows = reads.plant_rows(name)
    if not rows and not reads.experiments().filter(experiment=name).exists():
        raise Http404(f"no prediction belongs to experiment {name!r}")
    if request.GET.get("format") == "csv":
        response = HttpResponse(reads.rows_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}-root-lengths.csv"'
        return response
    plates = sorted({row["plate"] for row in rows})
    plate = request.GET.get("plate") or (plates[0] if plates else "")
    summary = reads.condition_summary(rows)
    chart = {
        "conditions": [{"condition": s["condition"], "lengths": s["lengths"]} for s in summary],
        "growth": reads.growth(rows, plate), "plate": plate,
    }  # fmt: skip
    context = {"name": name, "rows": rows, "summary": summary, "plates": plates,
               "plate": plate, "chart": chart}  # fmt: skip
    return render(request, "experiments/detail.html", context)
