"""The ``json`` adapter: one prediction-contract JSON per image, masks beside it.

For an image ``plate_001.png`` it writes ``OUT/plate_001.json`` (the JSON of
:meth:`visionkit.prediction.Prediction.to_dict`) and, for every mask array the
prediction carries, ``OUT/plate_001_<class>_mask.png`` (0 and 255, input-image
size), named in the JSON's ``masks`` object. Every file is written to a
temporary name and renamed, so a crash or a full disk never leaves half a
JSON for a robot to read.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from visionkit.adapters import (
    check_options,
    output_dir,
    parse_flag,
    parse_int,
    write_text_atomic,
)
from visionkit.adapters.base import BaseAdapter
from visionkit.exceptions import AdapterError
from visionkit.hookspecs import hookimpl
from visionkit.prediction import Prediction
from visionkit.specs import AdapterSpec

__all__ = ["JsonAdapter", "create", "visionkit_register_adapters"]

logger = logging.getLogger(__name__)

_OPTIONS = ("indent", "masks")


class JsonAdapter(BaseAdapter):
    """Writes ``<stem>.json`` and ``<stem>_<class>_mask.png`` per prediction.

    Args:
        out_dir: the folder to write to (created; default: current folder).
        indent: JSON indentation; ``None`` for one compact line.
        masks: write the prediction's mask arrays as PNGs (default true).
    """

    name = "json"

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        *,
        indent: int | None = 2,
        masks: bool = True,
    ) -> None:
        self.out_dir = output_dir(self.name, out_dir)
        self.indent = indent
        self.write_masks = masks
        self.written: list[Path] = []
        self._stems: set[str] = set()

    def write(self, prediction: Prediction) -> None:
        """Write the prediction's JSON (and its masks) into :attr:`out_dir`.

        Raises:
            AdapterError: the prediction holds NaN or infinity, a mask is not
                a 2-D array of the image's size, or a file cannot be written.
        """
        stem = prediction.stem
        if stem in self._stems:
            logger.warning(
                "%s: another image with stem %r was written to %s already; overwriting it",
                prediction.image,
                stem,
                self.out_dir,
            )
        data = prediction.to_dict()
        try:
            text = json.dumps(data, indent=self.indent, allow_nan=False) + "\n"
        except ValueError as exc:
            raise AdapterError(
                f"{prediction.image}: the prediction holds NaN or infinity ({exc}); "
                f"nothing was written to {self.out_dir}"
            ) from exc
        if self.write_masks and prediction.mask_arrays:
            data["masks"] = {**data["masks"], **self._write_masks(prediction)}
            text = json.dumps(data, indent=self.indent, allow_nan=False) + "\n"
        target = write_text_atomic(self.out_dir / f"{stem}.json", text)
        self._stems.add(stem)
        self.written.append(target)
        logger.debug("wrote %s", target)

    def _write_masks(self, prediction: Prediction) -> dict[str, str]:
        from visionkit.imageio import write_mask

        names: dict[str, str] = {}
        for cls, array in sorted(prediction.mask_arrays.items()):
            mask = np.asarray(array)
            if mask.shape != (prediction.height, prediction.width):
                raise AdapterError(
                    f"{prediction.image}: {cls} mask has shape {mask.shape}, expected "
                    f"(height, width) = ({prediction.height}, {prediction.width})"
                )
            name = f"{prediction.stem}_{cls}_mask.png"
            try:
                write_mask(self.out_dir / name, mask)
            except OSError as exc:
                raise AdapterError(f"cannot write {self.out_dir / name}: {exc}") from exc
            self.written.append(self.out_dir / name)
            names[cls] = name
        return names


def create(out_dir: str | os.PathLike[str] | None = None, **options: Any) -> JsonAdapter:
    """Create the ``json`` adapter; options: ``indent`` (a number or none), ``masks`` (true/false).

    Options come as Python values or as the CLI's text (``--adapter-option
    json.masks=false``), so ``"false"`` switches the masks off.
    """
    check_options("json", options, _OPTIONS)
    given = options.get("indent", 2)
    indent = None
    if given is not None and str(given).strip().lower() != "none":
        indent = parse_int(given)
        if indent is None or indent < 0:
            raise AdapterError(
                f"json adapter option indent={given!r}: give a whole number >= 0 or none"
            )
    masks = parse_flag(options.get("masks", True))
    if masks is None:
        raise AdapterError(f"json adapter option masks={options['masks']!r}: give true or false")
    return JsonAdapter(out_dir, indent=indent, masks=masks)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``json`` adapter."""
    return [AdapterSpec("json", create, "Prediction-contract JSON per image, with mask PNGs.")]
