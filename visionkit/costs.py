"""What a training run costs: a price table of computes and :func:`estimate`.

A *compute* is where a run trains: ``local-cpu`` or ``local-gpu`` (this
machine; the price is an electricity-and-wear guess, not a bill), or an Azure
VM size such as ``Standard_NC4as_T4_v3``. The default table holds hourly
pay-as-you-go Linux list prices in USD (East US, noted in ``docs/azure.md``
with their date): figures to check against the Azure price list, not quotes.

Override it with ``VISIONKIT_PRICE_TABLE``: a JSON object, or the path of a
JSON file holding one, mapping compute -> USD per hour (merged over the
defaults). A bad table is a :class:`~visionkit.exceptions.SettingsError`
naming the entry at fault, so a typo does not silently cost nothing.

The throughput table (``patches per second`` of the default ``unet-small``
at 256 px) turns a planned run (epochs x patches) into hours before it runs;
see ``docs/azure.md`` for which figures were measured and which are guesses.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from visionkit.exceptions import SettingsError

__all__ = [
    "DEFAULT_PRICES",
    "DEFAULT_THROUGHPUT",
    "PRICES_AS_OF",
    "PRICE_TABLE_ENV",
    "Estimate",
    "estimate",
    "estimate_run",
    "local_compute",
    "price_table",
]

logger = logging.getLogger(__name__)

PRICE_TABLE_ENV = "VISIONKIT_PRICE_TABLE"
#: When the default list prices were taken (check them before relying on them).
PRICES_AS_OF = "2024-06"

#: Compute -> USD per hour (per node for Azure VM sizes).
DEFAULT_PRICES: dict[str, float] = {
    "local-cpu": 0.02,
    "local-gpu": 0.10,
    "Standard_DS3_v2": 0.229,
    "Standard_NC4as_T4_v3": 0.526,
    "Standard_NC6s_v3": 3.06,
    "Standard_NC24ads_A100_v4": 3.673,
}

#: Compute -> 256-px patches trained per second by the default model (one node).
DEFAULT_THROUGHPUT: dict[str, float] = {
    "local-cpu": 3.8,
    "local-gpu": 150.0,
    "Standard_DS3_v2": 7.0,
    "Standard_NC4as_T4_v3": 150.0,
    "Standard_NC6s_v3": 300.0,
    "Standard_NC24ads_A100_v4": 600.0,
}


@dataclass(frozen=True)
class Estimate:
    """A run's compute, length and cost.

    Attributes:
        compute: ``local-cpu``, ``local-gpu`` or an Azure VM size.
        nodes: machines the run holds.
        hours: wall-clock hours (measured after a run, planned before).
        usd_per_hour: the table's price of one node.
        usd: ``usd_per_hour * hours * nodes``, rounded to cents' hundredths.
    """

    compute: str
    nodes: int
    hours: float
    usd_per_hour: float
    usd: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (job results, provenance tags)."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people: ``Standard_NC4as_T4_v3 x1 for 0.25 h at $0.526/h: about $0.13``."""
        return (
            f"{self.compute} x{self.nodes} for {self.hours:.2f} h at "
            f"${self.usd_per_hour:.3f}/h: about ${self.usd:.2f}"
        )


def _read_override(raw: str) -> Mapping[str, Any]:
    text = raw.strip()
    if not text.startswith(("{", "[")):
        path = Path(text).expanduser()
        if not path.is_file():
            raise SettingsError(
                f"{PRICE_TABLE_ENV}={raw!r}: neither a JSON object nor an existing file"
            )
        text = path.read_text(encoding="utf-8")
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{PRICE_TABLE_ENV}: not valid JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise SettingsError(f"{PRICE_TABLE_ENV}: must be a JSON object of compute: USD per hour")
    return loaded


def price_table(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """The defaults with ``VISIONKIT_PRICE_TABLE`` merged over them.

    Raises:
        SettingsError: the override is not JSON, not an object, or has a
            price that is not a number >= 0 (each such entry named).
    """
    env = os.environ if environ is None else environ
    table = dict(DEFAULT_PRICES)
    raw = env.get(PRICE_TABLE_ENV)
    if not raw:
        return table
    problems = []
    for name, price in _read_override(raw).items():
        if isinstance(price, bool) or not isinstance(price, int | float) or not price >= 0:
            problems.append(f"{name}: {price!r} is not a price >= 0")
        else:
            table[str(name)] = float(price)
    if problems:
        raise SettingsError(f"{PRICE_TABLE_ENV}: " + "; ".join(problems))
    return table


def local_compute(device: str) -> str:
    """``local-gpu`` for a CUDA device (``cuda``, ``cuda:0``), else ``local-cpu``."""
    return "local-gpu" if str(device).startswith("cuda") else "local-cpu"


def estimate(
    compute: str, hours: float, nodes: int = 1, *, prices: Mapping[str, float] | None = None
) -> Estimate:
    """The cost of ``nodes`` machines of ``compute`` for ``hours``.

    Raises:
        SettingsError: a compute the table does not price (the priced ones
            are listed), negative hours, or fewer than one node.
    """
    table = price_table() if prices is None else dict(prices)
    if compute not in table:
        raise SettingsError(
            f"no price for compute {compute!r}; priced: {', '.join(sorted(table))} "
            f"(add it with {PRICE_TABLE_ENV})"
        )
    if not (math.isfinite(hours) and hours >= 0):
        raise SettingsError(f"hours must be a number >= 0, not {hours!r}")
    if nodes < 1:
        raise SettingsError(f"nodes must be at least 1, not {nodes!r}")
    price = table[compute]
    return Estimate(
        compute=compute,
        nodes=nodes,
        hours=hours,
        usd_per_hour=price,
        usd=round(price * hours * nodes, 4),
    )


def estimate_run(
    compute: str,
    *,
    epochs: int,
    patches_per_epoch: int,
    nodes: int = 1,
    time_limit_min: float | None = None,
    overhead_min: float = 0.0,
    prices: Mapping[str, float] | None = None,
) -> Estimate:
    """The planned cost of a run before it starts.

    Its length is ``time_limit_min`` when given (the run fits itself into
    it), else ``epochs * patches_per_epoch`` patches at the compute's
    :data:`DEFAULT_THROUGHPUT` spread over ``nodes``; ``overhead_min`` adds
    the start-up a remote node needs (image pull, data mount).

    Raises:
        SettingsError: see :func:`estimate`; also a compute without a
            throughput figure and no ``time_limit_min``.
    """
    if time_limit_min is not None:
        minutes = float(time_limit_min)
    else:
        if compute not in DEFAULT_THROUGHPUT:
            raise SettingsError(
                f"no throughput figure for {compute!r}: give a time limit to estimate its cost"
            )
        per_second = DEFAULT_THROUGHPUT[compute] * max(1, nodes)
        minutes = epochs * patches_per_epoch / per_second / 60.0
    return estimate(compute, (minutes + overhead_min) / 60.0, nodes, prices=prices)
