"""Front-end libraries from npm, copied into the static files: ``python -m portal.vendor``.

``package.json`` and ``package-lock.json`` pin them; ``make setup`` runs
``npm ci`` and then this module, which copies the files the pages use from
``node_modules/`` into ``portal/static/vendor/`` (git-ignored), where
``collectstatic`` and whitenoise find them. Nothing npm provides is
committed, and no page loads anything from a CDN. A Django system check
(``portal.vendor.check_vendor``) says when the copy is missing.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

__all__ = ["FILES", "VENDOR_DIR", "check_vendor", "copy_vendor", "missing"]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR_DIR = ROOT / "portal" / "static" / "vendor"

#: node_modules path -> path under static/vendor/ (folders are copied whole).
FILES: dict[str, str] = {
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "openseadragon/build/openseadragon/openseadragon.min.js": "openseadragon/openseadragon.min.js",
    "openseadragon/build/openseadragon/images": "openseadragon/images",
    "chart.js/dist/chart.umd.min.js": "chart.js/chart.umd.min.js",
    "axe-core/axe.min.js": "axe-core/axe.min.js",
}


def missing() -> list[str]:
    """The vendor files not in ``static/vendor/`` yet."""
    return [target for target in FILES.values() if not (VENDOR_DIR / target).exists()]


def copy_vendor() -> list[Path]:
    """Copy :data:`FILES` from ``node_modules`` (run ``npm ci`` first); returns what was written."""
    written: list[Path] = []
    for source, target in FILES.items():
        src, dst = NODE_MODULES / source, VENDOR_DIR / target
        if not src.exists():
            raise SystemExit(f"{src} is missing: run `npm ci` in {ROOT} first")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        written.append(dst)
    return written


def check_vendor(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Django system check: a warning naming the front-end files that were never copied."""
    from django.core.checks import Warning as CheckWarning

    absent = missing()
    if not absent:
        return []
    return [
        CheckWarning(
            f"front-end files missing from portal/static/vendor: {', '.join(absent)}",
            hint="run `make setup` (npm ci, then python -m portal.vendor)",
            id="visionkit.W001",
        )
    ]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    done = copy_vendor()
    logger.info("copied %d front-end files into %s", len(done), VENDOR_DIR)
    sys.exit(0)
