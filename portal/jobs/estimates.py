"""What a training job will cost, said before it is submitted, and what it did cost.

The start form's estimate line, ``POST /api/jobs/estimate/`` and
:func:`portal.jobs.services.submit_job` all call :func:`planned_cost`, so the
figure a user is shown is the one stored in the job (``result["planned_cost"]``)
and compared with the run's measured ``result["cost"]`` on the job page.

Prices come from :mod:`visionkit.costs` (its dated default table, with
``VISIONKIT_PRICE_TABLE`` merged over it); lengths from its throughput
table, or the job's ``time_limit``. Azure ML is offered only when its
workspace is configured (:class:`visionkit.azureml.config.AzureMLConfig`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from portal.common.errors import PortalError
from portal.jobs.parameters import check_parameters

__all__ = [
    "actual_cost",
    "azureml_missing",
    "default_vm_size",
    "describe",
    "planned_cost",
    "price_source",
    "stored_plan",
    "vm_sizes",
]

_LOCAL = ("local-cpu", "local-gpu")


def azureml_missing() -> list[str]:
    """The ``VISIONKIT_AZUREML_*`` variables still unset; empty when Azure ML is configured."""
    from visionkit.azureml.config import AzureMLConfig
    from visionkit.exceptions import SettingsError

    try:
        return AzureMLConfig.from_env().workspace_missing
    except SettingsError as exc:
        return [str(exc)]


def vm_sizes() -> list[str]:
    """The Azure VM sizes the price table prices, cheapest first."""
    from visionkit.costs import price_table

    table = price_table()
    return sorted((name for name in table if name not in _LOCAL), key=lambda n: (table[n], n))


def default_vm_size() -> str:
    """The VM size a job gets when it names none (``VISIONKIT_AZUREML_VM_SIZE``)."""
    from visionkit.azureml.config import AzureMLConfig
    from visionkit.exceptions import SettingsError

    try:
        return AzureMLConfig.from_env().vm_size
    except SettingsError:
        return AzureMLConfig().vm_size


def price_source() -> str:
    """Where the prices come from, for the line under an estimate."""
    from visionkit.costs import PRICE_TABLE_ENV, PRICES_AS_OF

    if os.environ.get(PRICE_TABLE_ENV):
        return f"prices from {PRICE_TABLE_ENV} over the default table dated {PRICES_AS_OF}"
    return f"prices from the default table in settings, dated {PRICES_AS_OF}"


def _duration(hours: float) -> str:
    seconds = hours * 3600.0
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{hours:.1f} h"


def _dollars(usd: float) -> str:
    return f"${usd:.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def describe(cost: Mapping[str, Any]) -> str:
    """``about 1.2 h on Standard_NC4as_T4_v3 × 1 ≈ $0.63`` for a planned cost."""
    return (
        f"about {_duration(float(cost['hours']))} on {cost['compute']} × {cost['nodes']} "
        f"≈ {_dollars(float(cost['usd']))}"
    )


def planned_cost(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The planned cost of a training job with these parameters (checked here).

    Returns the :class:`visionkit.costs.Estimate` as a dict plus
    ``description`` (one line for people) and ``prices`` (where the prices
    come from).

    Raises:
        PortalError: a bad parameter, a VM size the price table does not
            price, or a bad ``VISIONKIT_PRICE_TABLE`` (each says which).
    """
    from portal.jobs.azureml import estimate_for
    from visionkit.exceptions import SettingsError

    checked = check_parameters("train", parameters)
    vm_size = checked.get("vm_size")
    if checked.get("backend") == "azureml" and vm_size is not None and vm_size not in vm_sizes():
        raise PortalError(
            f"VM size {vm_size!r} is not in the price table; priced: {', '.join(vm_sizes())} "
            "(add it with VISIONKIT_PRICE_TABLE)"
        )
    try:
        planned = estimate_for(checked)
    except SettingsError as exc:
        raise PortalError(f"cannot estimate the cost: {exc}") from exc
    return {**planned, "description": describe(planned), "prices": price_source()}


def stored_plan(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A job's ``result["planned_cost"]`` with its ``description``; ``None`` when it has none.

    The Azure ML runner stores the bare estimate again when it starts, so
    the line is rebuilt here when missing.
    """
    planned = (result or {}).get("planned_cost")
    if not isinstance(planned, Mapping):
        return None
    if "description" in planned:
        return dict(planned)
    try:
        return {**planned, "description": describe(planned)}
    except (KeyError, TypeError, ValueError):
        return None


def actual_cost(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A finished run's measured ``cost`` in one shape, whichever backend ran it.

    Local runs record ``estimated_usd`` (:func:`visionkit.training.provenance.run_cost`),
    Azure ML runs ``usd`` (:func:`portal.jobs.azureml.train_on_azureml`); ``None``
    when the job has no cost yet.
    """
    cost = (result or {}).get("cost")
    if not isinstance(cost, Mapping):
        return None
    usd = cost.get("estimated_usd", cost.get("usd"))
    return {
        "compute": cost.get("compute", "?"),
        "nodes": cost.get("nodes", 1),
        "duration": _duration(float(cost.get("duration_s") or 0.0) / 3600.0),
        "usd": _dollars(float(usd)) if isinstance(usd, int | float) else "unpriced",
    }
