"""The ``predict`` job's runner: every image of a stored batch through :func:`create_prediction`.

A bad image is logged and counted, never fatal: a batch of a hundred plates
with one corrupt file gives ninety-nine predictions and says which one failed.
"""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.files.storage import storages

from portal.common.errors import PortalError
from portal.common.storage import remove_files
from portal.predictions.models import Source
from portal.predictions.services import IMAGE_SUFFIXES, create_prediction

if TYPE_CHECKING:
    from portal.jobs.context import JobContext
    from portal.jobs.models import Job

__all__ = ["run_batch"]

logger = logging.getLogger(__name__)


def _names(prefix: str) -> list[str]:
    storage = storages["default"]
    _, files = storage.listdir(prefix)
    return sorted(
        f"{prefix}/{name}" for name in files if PurePath(name).suffix.lower() in IMAGE_SUFFIXES
    )


def _shown(stored: str) -> str:
    """The uploaded name of a stored batch file (``00003-plate.png`` -> ``plate.png``)."""
    base = PurePath(stored).name
    head, _, rest = base.partition("-")
    return rest if head.isdigit() and rest else base


def run_batch(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Predict every image under ``job.inputs``; the result counts them and names the failures."""
    storage = storages["default"]
    names = _names(job.inputs)
    if not names:
        raise PortalError(f"the batch {job.inputs} holds no images")
    params = job.parameters or {}
    made: list[int] = []
    failed: dict[str, str] = {}
    for done, stored in enumerate(names):
        ctx.check_cancelled()
        shown = _shown(stored)
        try:
            with storage.open(stored, "rb") as handle:
                row = create_prediction(
                    image=handle.read(),
                    image_name=shown,
                    user=job.created_by,
                    model_version=job.model_version,
                    calibration=params.get("calibration") or None,
                    tta=bool(params.get("tta", False)),
                    source=Source.BATCH,
                    job=job,
                )
        except PortalError as exc:
            failed[shown] = str(exc)
            ctx.log(f"{shown}: skipped: {exc}")
        else:
            made.append(row.pk)
            ctx.log(f"{shown}: {row.n_tips}/{row.n_plants} tips")
        ctx.progress((done + 1) / len(names), f"{done + 1}/{len(names)} images")
    remove_files(names)  # the inputs are kept with each prediction; the batch copy goes
    return {"images": len(names), "predicted": len(made), "failed": failed, "predictions": made}
