"""What the ros adapter says about a plate: which tips it sends, every field of both messages."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest
from visionkit_ros.adapter import RosAdapter
from visionkit_ros.messages import Stamp, plate_messages
from visionkit_ros.options import RosOptions

from visionkit import Keypoint, Prediction
from visionkit.exceptions import AdapterError

STAMP = Stamp(1_700_000_000, 250_000_000)
BELOW = "is below the threshold 0.8"


def _options(**given: object) -> RosOptions:
    return RosOptions.from_mapping(given, environ={})


def test_pose_array_holds_the_confident_tips_in_the_robot_frame(prediction: Prediction) -> None:
    targets = plate_messages(prediction, _options(), STAMP).targets
    assert targets == {
        "header": {"frame_id": "base_link", "stamp": {"secs": 1_700_000_000, "nsecs": 250_000_000}},
        "poses": [
            {
                "position": {"x": 0.1634, "y": 0.1012, "z": 0.057},
                "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
            },
            {
                "position": {"x": 0.1676, "y": 0.1654, "z": 0.057},
                "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
            },
        ],
    }


def test_tips_message_names_each_tip_and_why_the_others_were_left_out(
    prediction: Prediction,
) -> None:
    report = json.loads(plate_messages(prediction, _options(), STAMP).tips["data"])
    assert report["image"] == prediction.image
    assert report["model"] == {"name": "root-unet", "version": "3", "sha256": "0" * 64}
    assert (report["frame_id"], report["calibration_frame"]) == ("base_link", "ot2")
    assert report["stamp"] == {"secs": 1_700_000_000, "nsecs": 250_000_000}
    assert report["threshold"] == 0.8
    assert report["tips"] == [
        {
            "plant": 1,
            "confidence": 0.88,
            "x": 0.1634,
            "y": 0.1012,
            "z": 0.057,
            "pixel": {"x": 812.0, "y": 1930.5},
        },
        {
            "plant": 4,
            "confidence": 0.93,
            "x": 0.1676,
            "y": 0.1654,
            "z": 0.057,
            "pixel": {"x": 2100.25, "y": 2000.5},
        },
    ]
    assert report["skipped"] == [
        {"plant": 2, "reason": f"tip confidence 0.75 {BELOW}", "confidence": 0.75},
        {"plant": 3, "reason": "no root tip found: root not found", "confidence": None},
        {"plant": 5, "reason": f"tip confidence 0.4 {BELOW}", "confidence": 0.4},
    ]


def test_threshold_and_frame_id_options_change_what_is_sent(prediction: Prediction) -> None:
    plate = plate_messages(prediction, _options(threshold=0.7, frame_id="ot2_deck"), STAMP)
    assert [a.plant for a in plate.accepted] == [1, 2, 4]
    assert len(plate.targets["poses"]) == 3
    assert plate.targets["header"]["frame_id"] == "ot2_deck"
    assert json.loads(plate.tips["data"])["frame_id"] == "ot2_deck"


def test_threshold_cuts_on_the_confidence_the_contract_json_states(
    prediction: Prediction,
) -> None:
    # 0.79996 is written as 0.8 in <stem>.json, so the portal counts it confident: so do we.
    plant = dataclasses.replace(prediction.plants[1], tip=Keypoint(1300.0, 1800.0, 0.79996))
    nearly = dataclasses.replace(prediction, plants=[plant])
    (accepted,) = plate_messages(nearly, _options(), STAMP).accepted
    assert accepted.confidence == 0.8


def test_z_option_replaces_the_calibrations_height(prediction: Prediction) -> None:
    plate = plate_messages(prediction, _options(z="0.01"), STAMP)
    assert {p["position"]["z"] for p in plate.targets["poses"]} == {0.01}
    assert {t["z"] for t in json.loads(plate.tips["data"])["tips"]} == {0.01}


def test_a_prediction_without_calibration_asks_for_one(
    make_prediction: Callable[..., Prediction],
) -> None:
    with pytest.raises(AdapterError, match="--calibration") as caught:
        plate_messages(make_prediction(with_robot=False), _options(), STAMP)
    assert "no robot coordinates" in str(caught.value)


def test_a_plate_without_tips_sends_an_empty_pose_array(prediction: Prediction) -> None:
    bare = dataclasses.replace(
        prediction,
        plants=[dataclasses.replace(p, tip=None, robot=None) for p in prediction.plants],
    )
    plate = plate_messages(bare, _options(), STAMP)
    assert plate.targets["poses"] == []
    report = json.loads(plate.tips["data"])
    assert report["tips"] == []
    assert [s["plant"] for s in report["skipped"]] == [1, 2, 3, 4, 5]
    assert report["calibration_frame"] is None


def test_stamp_splits_nanoseconds_into_seconds_and_the_rest() -> None:
    assert Stamp.from_ns(1_700_000_000_999_999_999) == Stamp(1_700_000_000, 999_999_999)


def test_building_messages_connects_to_nothing(prediction: Prediction) -> None:
    adapter = RosAdapter(port=1)  # nothing may listen on port 1: a connection would fail
    assert len(adapter.messages(prediction).accepted) == 2
    assert not adapter.link.is_connected
    assert adapter.link.connections == 0
