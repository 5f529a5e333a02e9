"""What the mqtt adapter publishes for a real prediction: topics, order, fields and numbers."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import pytest
from visionkit_mqtt.messages import accepted_tips, prediction_messages, topic_level

from visionkit import Keypoint, Prediction
from visionkit.exceptions import AdapterError

if TYPE_CHECKING:  # conftest is not importable when pytest runs in importlib mode
    from conftest import RealPlate


def test_the_contract_comes_first_then_one_message_per_accepted_tip(
    prediction: Prediction,
) -> None:
    messages = prediction_messages(prediction, prefix="lab", threshold=0.0)
    found = [p for p in prediction.plants if p.tip is not None and p.robot is not None]
    assert len(found) >= 3, "the default model should find most tips of a synthetic plate"
    assert [m.topic for m in messages] == [
        "lab/predictions/mqtt_plate_007",
        *(f"lab/tips/mqtt_plate_007/{p.plant}" for p in found),
    ]
    assert json.loads(messages[0].payload) == prediction.to_dict()


def test_a_tip_message_carries_the_contract_numbers_in_robot_metres(
    real_plate: RealPlate,
) -> None:
    prediction = real_plate.prediction
    contract = {p["plant"]: p for p in prediction.to_dict()["plants"]}
    for tip in accepted_tips(prediction, threshold=0.0):
        plant = contract[tip["plant"]]
        assert tip == {
            "image": "mqtt_plate_007.png",
            "plant": plant["plant"],
            "confidence": plant["tip"]["confidence"],
            "frame": "ot2",
            "x": plant["robot"]["x"],
            "y": plant["robot"]["y"],
            "z": plant["robot"]["z"],
            "pixel": {"x": plant["tip"]["x"], "y": plant["tip"]["y"]},
            "model": prediction.model.to_dict(),
        }
        # the OT-2 preset's mapping of the tip's pixel, in metres on the deck
        robot = real_plate.calibration.to_robot(
            plant["tip"]["x"], plant["tip"]["y"], dish=prediction.dish
        )
        assert (tip["x"], tip["y"], tip["z"]) == pytest.approx(
            (robot.x, robot.y, robot.z), abs=1e-5
        )
        assert 0.0 < tip["x"] < 0.45  # on the deck, in metres
        assert 0.0 < tip["y"] < 0.4


def test_tips_below_the_threshold_are_left_out(prediction: Prediction) -> None:
    # the threshold applies to the confidence as the contract (and the message) states it
    plants = [p for p in prediction.to_dict()["plants"] if p["tip"] and p["robot"]]
    confidences = sorted(p["tip"]["confidence"] for p in plants)
    threshold = confidences[len(confidences) // 2]
    kept = {t["plant"] for t in accepted_tips(prediction, threshold)}
    assert kept == {p["plant"] for p in plants if p["tip"]["confidence"] >= threshold}
    assert 0 < len(kept) < len(confidences)


def test_a_tip_without_robot_coordinates_is_not_published_on_its_own(
    real_plate: RealPlate,
) -> None:
    messages = prediction_messages(real_plate.uncalibrated, prefix="lab", threshold=0.0)
    assert [m.topic for m in messages] == ["lab/predictions/mqtt_plate_007"]


def test_the_default_threshold_keeps_tips_of_0_8_and_more(prediction: Prediction) -> None:
    first = prediction.plants[0]
    assert first.tip is not None
    plants = [
        dataclasses.replace(first, tip=Keypoint(first.tip.x, first.tip.y, 0.8)),
        dataclasses.replace(first, plant=2, tip=Keypoint(first.tip.x, first.tip.y, 0.79)),
    ]
    tips = accepted_tips(dataclasses.replace(prediction, plants=plants), threshold=0.8)
    assert [t["plant"] for t in tips] == [1]


def test_clearing_rejected_tips_adds_an_empty_message_per_plant_left_out(
    prediction: Prediction,
) -> None:
    messages = prediction_messages(prediction, prefix="p", threshold=1.0, clear_rejected=True)
    assert [m.topic for m in messages] == [
        "p/predictions/mqtt_plate_007",
        *(f"p/tips/mqtt_plate_007/{p.plant}" for p in prediction.plants),
    ]
    assert all(m.payload == b"" for m in messages[1:])
    kept = prediction_messages(prediction, prefix="p", threshold=0.0, clear_rejected=True)
    unusable = [p for p in prediction.plants if p.tip is None or p.robot is None]
    assert sum(1 for m in kept if not m.payload) == len(unusable)


def test_wildcards_in_an_image_name_do_not_leak_into_the_topic(prediction: Prediction) -> None:
    odd = dataclasses.replace(prediction, image="plates/a+b#c.png")
    assert prediction_messages(odd, prefix="p", threshold=1.0)[0].topic == "p/predictions/a_b_c"
    assert topic_level("") == "_"


def test_a_prediction_holding_nan_is_refused(prediction: Prediction) -> None:
    broken = dataclasses.replace(prediction, confidence={"image": float("nan")})
    with pytest.raises(AdapterError, match="NaN"):
        prediction_messages(broken, prefix="p", threshold=0.8)
