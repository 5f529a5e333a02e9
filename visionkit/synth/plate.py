"""A generated plate: image, masks, ground-truth landmarks and file name."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SynthPlate"]


@dataclass(frozen=True)
class SynthPlate:
    """One synthetic plate with its ground truth.

    Attributes:
        image: ``uint8`` grayscale, ``(height, width)``.
        masks: ``{"root", "shoot", "seed", "occluded_root"}`` -> ``uint8`` 0/1
            arrays of the image's size.
        landmarks: the JSON-ready ground truth (see ``docs/synthetic.md``);
            coordinates are pixels of :attr:`image`.
        name: Hades-style file name of the image.
    """

    image: np.ndarray
    masks: dict[str, np.ndarray]
    landmarks: dict[str, Any]
    name: str

    @property
    def stem(self) -> str:
        """The file name without its suffix; mask and landmark files start with it."""
        return self.name.rsplit(".", 1)[0]

    @property
    def dish_bbox(self) -> tuple[int, int, int, int]:
        """The dish's ``(x0, y0, x1, y1)`` in image pixels."""
        x0, y0, x1, y1 = self.landmarks["dish"]["bbox"]
        return int(x0), int(y0), int(x1), int(y1)

    def cropped(self) -> SynthPlate:
        """The plate cut to the dish's bounding box, every coordinate shifted to match."""
        x0, y0, x1, y1 = self.dish_bbox
        landmarks = copy.deepcopy(self.landmarks)
        landmarks["width"], landmarks["height"] = x1 - x0, y1 - y0
        landmarks["dish"]["bbox"] = [0, 0, x1 - x0, y1 - y0]
        landmarks["crop"] = {"x": x0, "y": y0}
        for plant in landmarks["plants"]:
            for key in ("start", "tip"):
                if key in plant:
                    plant[key] = {
                        "x": round(plant[key]["x"] - x0, 2),
                        "y": round(plant[key]["y"] - y0, 2),
                    }
            if "primary_root_path" in plant:
                plant["primary_root_path"] = [
                    [round(x - x0, 2), round(y - y0, 2)] for x, y in plant["primary_root_path"]
                ]
        return SynthPlate(
            image=np.ascontiguousarray(self.image[y0:y1, x0:x1]),
            masks={k: np.ascontiguousarray(v[y0:y1, x0:x1]) for k, v in self.masks.items()},
            landmarks=landmarks,
            name=self.name,
        )
