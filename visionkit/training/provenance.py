"""Where a model came from: the code version and the software it ran on.

Recorded in every saved model's ``config.json`` and in the MLflow run's tags,
so a model found months later says which commit of visionkit trained it and
with which torch.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["code_version", "environment"]


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


def environment(device: str) -> dict[str, str]:
    """Python, torch, smp, platform and device, as ``env.*`` tag names -> text."""
    return {
        "env.python": sys.version.split()[0],
        "env.torch": _package("torch"),
        "env.smp": _package("segmentation-models-pytorch"),
        "env.visionkit": _package("visionkit"),
        "env.platform": platform.platform(),
        "env.device": device,
    }
