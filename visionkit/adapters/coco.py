"""The ``coco`` adapter: every prediction as one COCO keypoints file.

Predictions are gathered in memory and written on :meth:`CocoAdapter.close`
to ``OUT/<filename>`` (default ``predictions_coco.json``), atomically. The
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

_OPTIONS = ("filename", "margin")


class CocoAdapter(BaseAdapter):
    """Gathers predictions and writes one COCO keypoints JSON on close.

    Args:
        out_dir: the folder to write to (created; default: current folder).
        filename: the JSON file's name inside ``out_dir``.
        margin: pixels added around the landmarks' bounding box.
    """

    name = "coco"

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        *,
        filename: str = "predictions_coco.json",
        margin: float = 10.0,
    ) -> None:
        if not filename or Path(filename).name != filename:
            raise AdapterError(
                f"coco filename {filename!r} must be a plain file name; put folders in out_dir"
            )
        if margin < 0:
            raise AdapterError(f"coco margin must be >= 0 pixels, got {margin}")
        self.path = output_dir(self.name, out_dir) / filename
        self.margin = float(margin)
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []
        self._closed = False

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
        image_id = len(self.images) + 1
        self.images.append(
            {
                "id": image_id,
                "file_name": prediction.image,
                "width": prediction.width,
                "height": prediction.height,
            }
        )
        for plant in prediction.plants:
            annotation = self._annotation(plant, prediction.width, prediction.height)
            annotation.update(id=len(self.annotations) + 1, image_id=image_id)
            self.annotations.append(annotation)

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

    def to_dict(self) -> dict[str, Any]:
        """The COCO dataset gathered so far."""
        from visionkit import __version__

        return {
            "info": {"description": "visionkit predictions", "version": __version__},
            "licenses": [],
            "images": list(self.images),
            "annotations": list(self.annotations),
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
            "wrote %s: %d images, %d plants", self.path, len(self.images), len(self.annotations)
        )


def create(out_dir: str | os.PathLike[str] | None = None, **options: Any) -> CocoAdapter:
    """Create the ``coco`` adapter; options: ``filename``, ``margin``."""
    check_options("coco", options, _OPTIONS)
    return CocoAdapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``coco`` adapter."""
    return [AdapterSpec("coco", create, "COCO keypoints JSON of all images, written on close.")]
