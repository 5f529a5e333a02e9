"""PlantLandmarks in the prediction contract."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.landmarks import PlantLandmarks


def _plant(**changes):
    values = {
        "plant": 2,
        "start": (100.0, 50.0),
        "tip": (110.0, 450.0),
        "start_confidence": 0.9,
        "tip_confidence": 0.8,
        "path": np.array([[100.0, 50.0], [110.0, 450.0]]),
        "length_px": 400.0,
        "anchor": (100.0, 48.0),
    }
    values.update(changes)
    return PlantLandmarks(**values)


def test_to_plant_moves_map_pixels_into_the_input_image():
    plant = _plant().to_plant(scale=0.5, offset=(1000.0, 200.0), px_per_mm=10.0)

    assert plant.plant == 2
    assert (plant.tip.x, plant.tip.y, plant.tip.confidence) == (1220.0, 1100.0, 0.8)
    assert (plant.start.x, plant.start.y, plant.start.confidence) == (1200.0, 300.0, 0.9)
    assert plant.primary_root_length_px == 800.0
    assert plant.primary_root_length_mm == 40.0
    assert plant.reason is None


def test_a_plant_without_root_keeps_its_reason():
    plant = _plant(start=None, tip=None, length_px=None, reason="no root").to_plant()

    assert plant.tip is None
    assert plant.start is None
    assert plant.primary_root_length_px is None
    assert plant.reason == "no root"
    assert plant.to_dict()["reason"] == "no root"


def test_bad_scales_are_refused():
    with pytest.raises(ValueError, match="scale"):
        _plant().to_plant(scale=0)
    with pytest.raises(ValueError, match="px_per_mm"):
        _plant().length_mm(0)
    assert _plant(length_px=None).length_mm(10) is None
