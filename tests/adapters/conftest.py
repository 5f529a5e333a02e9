"""Hand-built predictions for adapter tests (no model needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from visionkit.prediction import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint

PredictionFactory = Callable[..., Prediction]


def _plants(count: int, missing: set[int]) -> list[Plant]:
    plants = []
    for number in range(1, count + 1):
        x = 400.0 + 450.0 * (number - 1)
        if number in missing:
            plants.append(
                Plant(number, tip=None, start=Keypoint(x, 820.0, 0.9), reason="root not found")
            )
            continue
        plants.append(
            Plant(
                number,
                tip=Keypoint(x + 6.5, 1930.25, 0.8 + 0.02 * number),
                start=Keypoint(x, 820.0, 0.93),
                primary_root_length_px=1118.2 + number,
                primary_root_length_mm=55.4 + number / 10,
                robot=RobotPoint("ot2", 0.1634, 0.1012 + number / 100, 0.057),
            )
        )
    return plants


@pytest.fixture
def make_prediction() -> PredictionFactory:
    """Build a plausible prediction.

    ``plants`` is a count (numbered 1..N left to right) or the plants
    themselves; ``missing`` lists the numbers whose tip was not found.
    """

    def build(
        image: str = "plate_001.png",
        *,
        plants: int | list[Plant] = 5,
        missing: tuple[int, ...] = (3,),
        masks: bool = False,
        width: int = 2600,
        height: int = 2600,
        **overrides: Any,
    ) -> Prediction:
        arrays: dict[str, np.ndarray] = {}
        if masks:
            root = np.zeros((height, width), dtype=np.uint8)
            root[50:200, 100:104] = 1
            shoot = np.zeros((height, width), dtype=bool)
            shoot[20:50, 90:115] = True
            arrays = {"root": root, "shoot": shoot}
        fields: dict[str, Any] = {
            "image": image,
            "width": width,
            "height": height,
            "model": ModelInfo("root-unet", "3", "ab" * 32),
            "dish": DishInfo((10, 12, 2590, 2595), 0.0496),
            "plants": _plants(plants, set(missing)) if isinstance(plants, int) else plants,
            "confidence": {"image": 0.91, "root": 0.93, "shoot": 0.95, "seed": 0.9},
            "timing_ms": {"total": 640.0},
            "mask_arrays": arrays,
        }
        fields.update(overrides)
        return Prediction(**fields)

    return build
