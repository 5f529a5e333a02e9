"""Exports of a stored prediction through any installed output adapter that writes files.

The formats are the library's adapters (``json``, ``csv``, ``coco``, and
plugins such as ``ot2``), found through its plugin manager the way
``visionkit predict --adapter`` finds them. An adapter counts as a file format
when it can be made with nothing but an output folder (``webhook`` needs a
URL, so it is not one). The stored contract is turned back into a
:class:`visionkit.Prediction`, written by the adapter into a scratch folder,
and answered as the one file written, or a zip when it wrote several.
"""

from __future__ import annotations

import functools
import io
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.common.errors import PortalError
from portal.predictions.models import Prediction

__all__ = ["Export", "export", "file_formats"]

logger = logging.getLogger(__name__)

_TYPES = {".json": "application/json", ".csv": "text/csv", ".py": "text/x-python"}


@dataclass(frozen=True)
class Export:
    """One export ready to send: its file name, bytes and media type."""

    filename: str
    content: bytes
    content_type: str


@functools.cache
def file_formats() -> tuple[str, ...]:
    """The installed adapters that write files, by name (computed once per process)."""
    from visionkit.exceptions import VisionkitError
    from visionkit.plugins import adapter_specs, create_adapter

    names = []
    with tempfile.TemporaryDirectory(prefix="visionkit-formats-") as scratch:
        for name in sorted(adapter_specs()):
            try:
                adapter = create_adapter(name, out_dir=Path(scratch) / name)
            except (VisionkitError, TypeError, ValueError) as exc:
                logger.debug("adapter %s writes no files without options: %s", name, exc)
                continue
            adapter.close()
            names.append(name)
    return tuple(names)


def export(prediction: Prediction, fmt: str, *, calibration: str | None = None) -> Export:
    """The prediction as the adapter ``fmt`` writes it.

    ``calibration`` (a preset's or a saved calibration's name) is handed to adapters that map robot
    coordinates themselves (``ot2``) when the prediction carries none.

    Raises:
        PortalError: ``fmt`` is not a file-writing adapter here, or the adapter refused.
    """
    from visionkit import Prediction as LibraryPrediction
    from visionkit.exceptions import VisionkitError
    from visionkit.plugins import create_adapter

    formats = file_formats()
    if fmt not in formats:
        raise PortalError(f"unknown export format {fmt!r}; the formats are: {', '.join(formats)}")
    from portal.predictions.reviews import reviewed_contract

    contract = reviewed_contract(prediction)  # a person's targets win over the model's
    contract.pop("review", None)
    contract["masks"] = {}
    result = LibraryPrediction.from_dict(contract)
    from portal.calibrations.services import resolve

    chosen = resolve(calibration) if calibration and fmt == "ot2" else None
    options: dict[str, Any] = {"calibration": chosen} if chosen is not None else {}
    with tempfile.TemporaryDirectory(prefix="visionkit-export-") as scratch:
        out = Path(scratch) / "out"
        try:
            adapter = create_adapter(fmt, out_dir=out, **options)
            try:
                adapter.write(result)
            finally:
                adapter.close()
        except VisionkitError as exc:
            raise PortalError(f"the {fmt} export failed: {exc}") from exc
        files = sorted(p for p in out.rglob("*") if p.is_file())
        if not files:
            raise PortalError(f"the {fmt} adapter wrote no file for this prediction")
        stem = Path(prediction.image_name).stem or f"prediction-{prediction.pk}"
        if len(files) == 1:
            only = files[0]
            return Export(
                filename=only.name,
                content=only.read_bytes(),
                content_type=_TYPES.get(only.suffix, "application/octet-stream"),
            )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(out).as_posix())
        return Export(f"{stem}.{fmt}.zip", buffer.getvalue(), "application/zip")
