"""The ``csv`` adapter: one row per plant, every image in one table.

Rows go to ``OUT/<filename>`` (default ``predictions.csv``) with the columns
in :data:`COLUMNS`. A plant whose tip was not found keeps its row, with
empty tip and robot cells and the reason in ``reason``; an image with no
plants at all gets one row with an empty ``plant`` cell and the reason
``"no plants found"``, so every processed image shows up.

An existing file from an earlier run is appended to when its header is
exactly :data:`COLUMNS`; any other header is refused with an
:class:`~visionkit.exceptions.AdapterError` naming the file, rather than
mixing two layouts in one table. Pass ``overwrite=True`` to start afresh.
Rows are flushed after every image, so an interrupted run keeps what it
wrote.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path
from typing import IO, Any

from visionkit.adapters import check_options, output_dir
from visionkit.adapters.base import BaseAdapter
from visionkit.exceptions import AdapterError
from visionkit.hookspecs import hookimpl
from visionkit.prediction import Plant, Prediction
from visionkit.specs import AdapterSpec

__all__ = ["COLUMNS", "CsvAdapter", "create", "visionkit_register_adapters"]

logger = logging.getLogger(__name__)

#: The header row, in order.
COLUMNS: tuple[str, ...] = (
    "image",
    "width",
    "height",
    "model_name",
    "model_version",
    "plant",
    "tip_x",
    "tip_y",
    "tip_confidence",
    "start_x",
    "start_y",
    "start_confidence",
    "primary_root_length_px",
    "primary_root_length_mm",
    "robot_frame",
    "robot_x",
    "robot_y",
    "robot_z",
    "reason",
)

_OPTIONS = ("filename", "overwrite")


def _cell(value: Any) -> Any:
    return "" if value is None else value


class CsvAdapter(BaseAdapter):
    """Appends one row per plant to a CSV file.

    Args:
        out_dir: the folder to write to (created; default: current folder).
        filename: the CSV file's name inside ``out_dir``.
        overwrite: replace an existing file instead of appending to it.

    Raises:
        AdapterError: the file exists with a different header, or is not
            readable as text.
    """

    name = "csv"

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        *,
        filename: str = "predictions.csv",
        overwrite: bool = False,
    ) -> None:
        if not filename or Path(filename).name != filename:
            raise AdapterError(
                f"csv filename {filename!r} must be a plain file name; put folders in out_dir"
            )
        self.path = output_dir(self.name, out_dir) / filename
        self._handle: IO[str] | None = None
        self._closed = False
        self._needs_header = overwrite or not self._matches_existing()
        self._mode = "w" if overwrite else "a"

    def _matches_existing(self) -> bool:
        """True when an existing file can be appended to (same header)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return False
        try:
            with self.path.open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise AdapterError(f"{self.path} exists but cannot be read as CSV: {exc}") from exc
        if tuple(header) != COLUMNS:
            raise AdapterError(
                f"{self.path} exists with a different header ({', '.join(header[:6])}, ...); "
                f"refusing to mix layouts: choose another filename, remove the file, "
                f"or pass overwrite=True"
            )
        logger.info("appending to %s", self.path)
        return True

    def rows(self, prediction: Prediction) -> list[dict[str, Any]]:
        """The rows one prediction becomes, as column -> value."""
        base = {
            "image": prediction.image,
            "width": prediction.width,
            "height": prediction.height,
            "model_name": prediction.model.name,
            "model_version": prediction.model.version,
        }
        if not prediction.plants:
            return [{**base, "reason": "no plants found"}]
        return [{**base, **self._plant_cells(plant)} for plant in prediction.plants]

    @staticmethod
    def _plant_cells(plant: Plant) -> dict[str, Any]:
        data = plant.to_dict()
        tip, start, robot = data["tip"] or {}, data["start"] or {}, data["robot"] or {}
        reason = plant.reason
        if plant.tip is None and reason is None:
            reason = "tip not found"
        return {
            "plant": plant.plant,
            "tip_x": tip.get("x"),
            "tip_y": tip.get("y"),
            "tip_confidence": tip.get("confidence"),
            "start_x": start.get("x"),
            "start_y": start.get("y"),
            "start_confidence": start.get("confidence"),
            "primary_root_length_px": data["primary_root_length_px"],
            "primary_root_length_mm": data["primary_root_length_mm"],
            "robot_frame": robot.get("frame"),
            "robot_x": robot.get("x"),
            "robot_y": robot.get("y"),
            "robot_z": robot.get("z"),
            "reason": reason,
        }

    def write(self, prediction: Prediction) -> None:
        """Append the prediction's rows (and the header, the first time).

        Raises:
            AdapterError: the adapter was closed, or the file cannot be written.
        """
        if self._closed:
            raise AdapterError(f"csv adapter for {self.path} is closed; create a new one")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        if self._needs_header:
            writer.writeheader()
        for row in self.rows(prediction):
            writer.writerow({column: _cell(row.get(column)) for column in COLUMNS})
        try:
            if self._handle is None:
                self._handle = self.path.open(self._mode, encoding="utf-8", newline="")
            self._handle.write(buffer.getvalue())
            self._handle.flush()
        except OSError as exc:
            raise AdapterError(f"cannot write {self.path}: {exc}") from exc
        self._needs_header = False

    def close(self) -> None:
        """Close the file; safe to call twice."""
        self._closed = True
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def create(out_dir: str | os.PathLike[str] | None = None, **options: Any) -> CsvAdapter:
    """Create the ``csv`` adapter; options: ``filename``, ``overwrite``."""
    check_options("csv", options, _OPTIONS)
    return CsvAdapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``csv`` adapter."""
    return [AdapterSpec("csv", create, "One CSV row per plant, appended across images.")]
