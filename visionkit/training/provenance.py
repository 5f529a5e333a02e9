"""Where a model came from: the code version and the software it ran on.

Recorded in every saved model's ``config.json`` and in the MLflow run's tags,
so a model found months later says which commit of visionkit trained it and
with which torch. :func:`run_cost` adds what it ran on (local CPU or GPU, or
the Azure ML VM size and node count), for how long and what that cost by the
price table of :mod:`visionkit.costs`.

Inside an Azure ML job the spec sets ``VISIONKIT_COMPUTE`` (the VM size) and
``VISIONKIT_NODES``; elsewhere the compute is ``local-cpu`` or ``local-gpu``.
"""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["COMPUTE_ENV", "NODES_ENV", "code_version", "compute", "environment", "run_cost"]

logger = logging.getLogger(__name__)

#: Set by the Azure ML job specs: the VM size and node count the run holds.
COMPUTE_ENV = "VISIONKIT_COMPUTE"
NODES_ENV = "VISIONKIT_NODES"


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version() -> str:
    """``git:<commit>`` (with ``+dirty`` for uncommitted changes) when visionkit
    runs from a git checkout, else ``visionkit==<package version>``."""
    from visionkit import __version__

    here = Path(__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], here)
    if commit:
        dirty = _git(["status", "--porcelain", "--untracked-files=no"], here)
        return f"git:{commit}{'+dirty' if dirty else ''}"
    return f"visionkit=={__version__}"


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def compute(device: str) -> tuple[str, int]:
    """``(compute, nodes)`` this process trains on: the Azure VM size the job
    spec named, else ``local-gpu`` / ``local-cpu`` from ``device``."""
    from visionkit.costs import local_compute

    named = os.environ.get(COMPUTE_ENV, "").strip()
    try:
        nodes = max(1, int(os.environ.get(NODES_ENV, "1")))
    except ValueError:
        nodes = 1
    return (named, nodes) if named else (local_compute(device), 1)


def run_cost(device: str, seconds: float) -> dict[str, Any]:
    """What a finished run used: ``compute``, ``nodes``, ``duration_s``, and the
    estimate (``usd_per_hour``, ``estimated_usd``) from the price table.

    A compute the table does not price keeps its description and duration
    with ``estimated_usd`` ``None`` (logged once): the record is never lost
    for want of a price.
    """
    from visionkit.costs import estimate
    from visionkit.exceptions import SettingsError

    name, nodes = compute(device)
    record: dict[str, Any] = {
        "compute": name,
        "nodes": nodes,
        "duration_s": round(float(seconds), 1),
        "usd_per_hour": None,
        "estimated_usd": None,
    }
    try:
        priced = estimate(name, max(0.0, seconds) / 3600.0, nodes)
    except SettingsError as exc:
        logger.warning("no cost estimate for this run: %s", exc)
        return record
    record["usd_per_hour"] = priced.usd_per_hour
    record["estimated_usd"] = priced.usd
    return record


def environment(device: str) -> dict[str, str]:
    """Python, torch, smp, platform, device and compute, as ``env.*`` tag names -> text."""
    name, nodes = compute(device)
    return {
        "env.compute": name,
        "env.nodes": str(nodes),
        "env.python": sys.version.split()[0],
        "env.torch": _package("torch"),
        "env.smp": _package("segmentation-models-pytorch"),
        "env.visionkit": _package("visionkit"),
        "env.platform": platform.platform(),
        "env.device": device,
    }
