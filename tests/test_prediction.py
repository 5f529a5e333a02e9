"""The prediction contract's JSON shape and its round trip."""

from __future__ import annotations

import json

import numpy as np

from visionkit.frame import Frame
from visionkit.prediction import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint


def _prediction() -> Prediction:
    return Prediction(
        image="plate_001.png",
        width=4202,
        height=3006,
        model=ModelInfo("root-unet", "3", "ab" * 32),
        dish=DishInfo((700, 150, 3500, 2950), 0.0496),
        plants=[
            Plant(
                1,
                tip=Keypoint(812.0, 1930.5, 0.88),
                start=Keypoint(806.0, 820.0, 0.93),
                primary_root_length_px=1118.2,
                primary_root_length_mm=55.4,
                robot=RobotPoint("ot2", 0.1634, 0.1012, 0.057),
            ),
            Plant(2, tip=None, start=None, reason="no root found below the shoot"),
        ],
        confidence={"image": 0.91, "root": 0.93},
        masks={"root": "plate_001_root_mask.png"},
        timing_ms={"total": 640.0},
        mask_arrays={"root": np.zeros((3006, 4202), np.uint8)},
    )


def test_to_dict_matches_the_design_contract() -> None:
    data = _prediction().to_dict()
    assert list(data) == [
        "image",
        "width",
        "height",
        "model",
        "dish",
        "masks",
        "confidence",
        "plants",
        "timing_ms",
    ]
    assert data["dish"] == {"bbox": [700, 150, 3500, 2950], "mm_per_px": 0.0496}
    first, second = data["plants"]
    assert first["tip"] == {"x": 812.0, "y": 1930.5, "confidence": 0.88}
    assert first["robot"] == {"frame": "ot2", "x": 0.1634, "y": 0.1012, "z": 0.057}
    assert second["tip"] is None
    assert second["reason"] == "no root found below the shoot"
    json.dumps(data)  # serialisable, masks arrays excluded


def test_round_trip_through_json_keeps_every_contract_field() -> None:
    original = _prediction()
    again = Prediction.from_dict(json.loads(json.dumps(original.to_dict())))
    assert again.to_dict() == original.to_dict()
    assert again.mask_arrays == {}
    assert again.stem == "plate_001"


def test_warnings_appear_only_when_present() -> None:
    prediction = _prediction()
    assert "warnings" not in prediction.to_dict()
    prediction.warnings.append("image is out of distribution")
    assert prediction.to_dict()["warnings"] == ["image is out of distribution"]


def test_frame_names_and_size() -> None:
    frame = Frame(np.zeros((30, 40), np.uint8), "/data/plates/035_a.png")
    assert (frame.width, frame.height) == (40, 30)
    assert frame.name == "035_a.png"
    assert frame.stem == "035_a"
    named = Frame(np.zeros((2, 2), np.uint8), "camera:0", metadata={"name": "shot-7"})
    assert named.stem == "shot-7"
    assert Frame(np.zeros((2, 2), np.uint8), "/").name == "frame"


def test_frame_refuses_a_non_image() -> None:
    import pytest

    with pytest.raises(ValueError, match="camera:1"):
        Frame(np.zeros(5), "camera:1")
