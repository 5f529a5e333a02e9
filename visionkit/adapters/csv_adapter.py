"""The ``csv`` adapter: one row per plant, every image in one table.

Rows go to ``OUT/<filename>`` (default ``predictions.csv``) with the columns
in :data:`COLUMNS`. A plant whose tip was not found keeps its row, with
empty tip and robot cells and the reason in ``reason``; an image with no
plants at all gets one row with an empty ``plant`` cell and the reason
``"no plants found"``, so every processed image shows up.

The table holds each image once (:mod:`visionkit.adapters.records`): an
image predicted again, in this run or a later one into the same folder,
*replaces* its rows where they stood, so the file is the same whether a
plate ran once or twice, and robot code reading it never sees a plant
twice. Rows of other images from earlier runs are kept. A new image's rows
are appended and flushed at once, so an interrupted run keeps what it wrote;
a replacement rewrites the file atomically (readers see the old table or
the new one, never half of it).

An existing file must have exactly the header :data:`COLUMNS`; any other is
refused with an :class:`~visionkit.exceptions.AdapterError` naming the file,
rather than mixing two layouts in one table. Pass ``overwrite=True`` to
start afresh.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from visionkit.adapters import check_options, output_dir, write_text_atomic
from visionkit.adapters.base import BaseAdapter
from visionkit.adapters.records import ImageRecords
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
    """Keeps one CSV table of plants, one set of rows per image.

    Args:
        out_dir: the folder to write to (created; default: current folder).
        filename: the CSV file's name inside ``out_dir``.
        overwrite: start a new table instead of keeping an existing file's images.

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
        self._closed = False
        self._table: ImageRecords[dict[str, str]] = (
            ImageRecords() if overwrite else self._existing_rows()
        )
        self._on_disk = not overwrite and self.path.exists() and self.path.stat().st_size > 0

    def _existing_rows(self) -> ImageRecords[dict[str, str]]:
        """The rows an earlier run left, grouped by image (empty without a file)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return ImageRecords()
        try:
            with self.path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                header = tuple(reader.fieldnames or ())
                if header != COLUMNS:
                    raise AdapterError(
                        f"{self.path} exists with a different header ({', '.join(header[:6])}, "
                        f"...); refusing to mix layouts: choose another filename, remove the "
                        f"file, or pass overwrite=True"
                    )
                table = ImageRecords.grouped((row["image"], dict(row)) for row in reader)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise AdapterError(f"{self.path} exists but cannot be read as CSV: {exc}") from exc
        logger.info("keeping %d image(s) already in %s", len(table), self.path)
        return table

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
        """Put the prediction's rows in the table: appended if the image is new, else replaced.

        Raises:
            AdapterError: the adapter was closed, or the file cannot be written.
        """
        if self._closed:
            raise AdapterError(f"csv adapter for {self.path} is closed; create a new one")
        rows = [
            {column: str(_cell(row.get(column))) for column in COLUMNS}
            for row in self.rows(prediction)
        ]
        if self._table.put(prediction.image, rows) or not self._on_disk:
            write_text_atomic(self.path, _render(self._table.records(), header=True))
            self._on_disk = True
            return
        try:
            with self.path.open("a", encoding="utf-8", newline="") as handle:
                handle.write(_render(rows, header=False))
        except OSError as exc:
            raise AdapterError(f"cannot write {self.path}: {exc}") from exc

    def close(self) -> None:
        """Refuse further writes; every row is on disk already. Safe to call twice."""
        self._closed = True


def _render(rows: Iterable[dict[str, Any]], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def create(out_dir: str | os.PathLike[str] | None = None, **options: Any) -> CsvAdapter:
    """Create the ``csv`` adapter; options: ``filename``, ``overwrite``."""
    check_options("csv", options, _OPTIONS)
    return CsvAdapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``csv`` adapter."""
    return [AdapterSpec("csv", create, "One CSV row per plant; a re-run image replaces its rows.")]
