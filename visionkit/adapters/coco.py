"""The ``coco`` adapter: every prediction as one COCO keypoints file.

Predictions are gathered in memory and written on :meth:`CocoAdapter.close`
to ``OUT/<filename>`` (default ``predictions_coco.json``), atomically. The
file holds each image once (:mod:`visionkit.adapters.records`): images
already in a file an earlier run left there are kept, and an image predicted
again replaces its entry and annotations, so the file is the same whether a
plate ran once or twice. Ids are numbered 1..N in that order on every write.
A file that is not a COCO keypoints file of this layout is refused with an
:class:`~visionkit.exceptions.AdapterError` rather than overwritten; pass
``overwrite=True`` to start afresh. The
file follows the COCO keypoint-detection layout, so pycocotools and any
COCO tool read it:

- ``images``: ``id``, ``file_name`` (the input image as given), ``width``,
  ``height``;
- ``categories``: one, ``plant``, with keypoints ``root_start`` and
  ``root_tip`` and the skeleton ``[[1, 2]]``;
- ``annotations``: one per plant. ``keypoints`` is ``[x, y, v]`` for the start
  then the tip, ``v = 2`` when found and ``x = y = v = 0`` when not;
  ``score`` is the mean confidence of the landmarks found (0 when none) and
  ``keypoint_scores`` the confidence of each (0 when missing); ``bbox`` spans
  the found landmarks plus ``margin`` pixels, clipped to the image; ``area``
  is the box's area. ``plant`` and ``reason`` are carried as extra fields.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from visionkit.adapters import check_options, output_dir, write_text_atomic
from visionkit.adapters.base import BaseAdapter
from visionkit.adapters.records import ImageRecords
from visionkit.exceptions import AdapterError
from visionkit.hookspecs import hookimpl
from visionkit.prediction import Keypoint, Plant, Prediction
from visionkit.specs import AdapterSpec

__all__ = ["CATEGORY", "CocoAdapter", "create", "visionkit_register_adapters"]

logger = logging.getLogger(__name__)

#: The one category every annotation belongs to.
CATEGORY: dict[str, Any] = {
    "id": 1,
    "name": "plant",
    "supercategory": "plant",
    "keypoints": ["root_start", "root_tip"],
    "skeleton": [[1, 2]],
}

_OPTIONS = ("filename", "margin", "overwrite")


class CocoAdapter(BaseAdapter):
    """Gathers predictions and writes one COCO keypoints JSON on close.

    Args:
        out_dir: the folder to write to (created; default: current folder).
        filename: the JSON file's name inside ``out_dir``.
        margin: pixels added around the landmarks' bounding box.
        overwrite: start a new file instead of keeping an existing file's images.

    Raises:
        AdapterError: a bad option, or an existing file that is not a COCO
            keypoints file of this layout.
    """

    name = "coco"

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        *,
        filename: str = "predictions_coco.json",
        margin: float = 10.0,
        overwrite: bool = False,
    ) -> None:
        if not filename or Path(filename).name != filename:
            raise AdapterError(
                f"coco filename {filename!r} must be a plain file name; put folders in out_dir"
            )
        if margin < 0:
            raise AdapterError(f"coco margin must be >= 0 pixels, got {margin}")
        self.path = output_dir(self.name, out_dir) / filename
        self.margin = float(margin)
        #: image name -> its ``images`` entry (without ``id``).
        self._entries: dict[str, dict[str, Any]] = {}
        #: image name -> its annotations (without ``id`` and ``image_id``).
        self._table: ImageRecords[dict[str, Any]] = ImageRecords()
        self._closed = False
        if not overwrite:
            self._load_existing()

    def _load_existing(self) -> None:
        """Keep the images of a file an earlier run left (nothing without a file)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            images = {int(i["id"]): i for i in data["images"]}
            if [c.get("name") for c in data["categories"]] != [CATEGORY["name"]]:
                raise ValueError("its categories are not visionkit's 'plant'")
            named = [(images[int(a["image_id"])]["file_name"], a) for a in data["annotations"]]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"{self.path} exists but is not a visionkit COCO keypoints file ({exc}); "
                f"choose another filename, remove the file, or pass overwrite=True"
            ) from exc
        for entry in images.values():
            self._entries[entry["file_name"]] = _without(entry, "id")
        self._table = ImageRecords.grouped(
            (name, _without(a, "id", "image_id")) for name, a in named
        )
        for name in self._entries:  # images without plants keep their entry
            if name not in self._table:
                self._table.put(name, [])
        logger.info("keeping %d image(s) already in %s", len(self._table), self.path)

    def write(self, prediction: Prediction) -> None:
        """Add the prediction's image and one annotation per plant.

        Raises:
            AdapterError: the adapter was closed already, or a landmark holds
                NaN or infinity.
        """
        if self._closed:
            raise AdapterError(f"coco adapter for {self.path} is closed; create a new one")
        for plant in prediction.plants:
            for label, point in (("start", plant.start), ("tip", plant.tip)):
                if point and not all(
                    math.isfinite(v) for v in (point.x, point.y, point.confidence)
                ):
                    raise AdapterError(
                        f"{prediction.image}: plant {plant.plant} {label} holds NaN or infinity "
                        f"({point}); a COCO file cannot carry it"
                    )
        self._entries[prediction.image] = {
            "file_name": prediction.image,
            "width": prediction.width,
            "height": prediction.height,
        }
        self._table.put(
            prediction.image,
            [self._annotation(p, prediction.width, prediction.height) for p in prediction.plants],
        )

    def _annotation(self, plant: Plant, width: int, height: int) -> dict[str, Any]:
        landmarks: list[Keypoint | None] = [plant.start, plant.tip]
        found = [k for k in landmarks if k is not None]
        keypoints: list[float] = []
        for point in landmarks:
            keypoints += [round(point.x, 2), round(point.y, 2), 2] if point else [0, 0, 0]
        scores = [round(k.confidence, 4) if k else 0.0 for k in landmarks]
        bbox = [0.0, 0.0, 0.0, 0.0]
        if found:
            x0 = max(0.0, min(k.x for k in found) - self.margin)
            y0 = max(0.0, min(k.y for k in found) - self.margin)
            x1 = min(float(width), max(k.x for k in found) + self.margin)
            y1 = min(float(height), max(k.y for k in found) + self.margin)
            bbox = [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)]
        annotation: dict[str, Any] = {
            "category_id": CATEGORY["id"],
            "plant": plant.plant,
            "keypoints": keypoints,
            "num_keypoints": len(found),
            "score": round(sum(k.confidence for k in found) / len(found), 4) if found else 0.0,
            "keypoint_scores": scores,
            "bbox": bbox,
            "area": round(bbox[2] * bbox[3], 2),
            "iscrowd": 0,
        }
        if plant.reason is not None:
            annotation["reason"] = plant.reason
        return annotation

    @property
    def images(self) -> list[dict[str, Any]]:
        """The ``images`` entries so far, numbered 1..N in first-seen order."""
        return [
            {"id": number, **self._entries[name]}
            for number, name in enumerate(self._table.images(), start=1)
        ]

    @property
    def annotations(self) -> list[dict[str, Any]]:
        """The annotations so far, numbered 1..N, each with its image's id."""
        numbered: list[dict[str, Any]] = []
        for image_id, (_, found) in enumerate(self._table.items(), start=1):
            for annotation in found:
                numbered.append({**annotation, "id": len(numbered) + 1, "image_id": image_id})
        return numbered

    def to_dict(self) -> dict[str, Any]:
        """The COCO dataset gathered so far."""
        from visionkit import __version__

        return {
            "info": {"description": "visionkit predictions", "version": __version__},
            "licenses": [],
            "images": self.images,
            "annotations": self.annotations,
            "categories": [dict(CATEGORY)],
        }

    def close(self) -> None:
        """Write the file (once; a second call does nothing).

        Raises:
            AdapterError: the file cannot be written.
        """
        if self._closed:
            return
        self._closed = True
        text = json.dumps(self.to_dict(), allow_nan=False) + "\n"
        write_text_atomic(self.path, text)
        logger.info(
            "wrote %s: %d images, %d plants",
            self.path,
            len(self._table),
            sum(1 for _ in self._table.records()),
        )


def _without(entry: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in keys}


def create(out_dir: str | os.PathLike[str] | None = None, **options: Any) -> CocoAdapter:
    """Create the ``coco`` adapter; options: ``filename``, ``margin``, ``overwrite``."""
    check_options("coco", options, _OPTIONS)
    return CocoAdapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``coco`` adapter."""
    return [AdapterSpec("coco", create, "COCO keypoints JSON of all images, each once, on close.")]
