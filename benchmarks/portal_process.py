"""The environment the benchmarks start ``python -m portal.serve`` with: a portal of its own.

Everything the portal writes (database, files, model cache, MLflow store,
job scratch) goes under ``home``; the shell's ``VISIONKIT_*`` and
``DATABASE_URL`` are dropped so a developer's settings cannot leak into a
measurement; no demo plates are predicted at start-up.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

__all__ = ["free_port", "portal_env"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def portal_env(home: Path, port: int, *, web_workers: int = 1) -> dict[str, str]:
    """The environment of a portal on ``port`` that keeps everything under ``home``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VISIONKIT_", "DJANGO_"))}
    keep.pop("DATABASE_URL", None)
    return {
        **keep, "PORT": str(port), "DATABASE_URL": f"sqlite:///{home / 'portal.sqlite3'}",
        "VISIONKIT_VAR_DIR": str(home / "var"), "VISIONKIT_MEDIA_ROOT": str(home / "media"),
        "VISIONKIT_STATIC_ROOT": str(home / "static"),
        "VISIONKIT_MODEL_CACHE": str(home / "model-cache"),
        "VISIONKIT_JOB_DIR": str(home / "jobs"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlruns.db'}",
        "VISIONKIT_DEMO_PLATES": "0", "VISIONKIT_WEB_WORKERS": str(web_workers),
        "VISIONKIT_Q_WORKERS": "1",
    }  # fmt: skip
