"""The ros adapter against a stand-in rosbridge: what it advertises and publishes."""

from __future__ import annotations

import json
from typing import Any

from visionkit_ros.adapter import RosAdapter

from visionkit import Prediction
from visionkit.plugins import adapter_specs, create_adapter, get_plugin_manager, list_plugins


def _publishes(bridge: Any, topic: str, count: int = 1) -> list[dict[str, Any]]:
    found = [op for op in bridge.wait_for("publish", count * 2) if op["topic"] == topic]
    assert len(found) == count, f"expected {count} publish op(s) on {topic}, got {len(found)}"
    return found


def test_advertises_both_topics_with_their_types_before_publishing(
    rosbridge: Any, prediction: Prediction
) -> None:
    with RosAdapter(port=rosbridge.port) as adapter:
        adapter.write(prediction)
    rosbridge.wait_for("unadvertise", 2)
    kinds = [(op["op"], op["topic"]) for op in rosbridge.ops()]
    assert kinds == [
        ("advertise", "/visionkit/targets"),
        ("publish", "/visionkit/targets"),
        ("advertise", "/visionkit/tips"),
        ("publish", "/visionkit/tips"),
        ("unadvertise", "/visionkit/targets"),
        ("unadvertise", "/visionkit/tips"),
    ]
    types = {op["topic"]: op["type"] for op in rosbridge.ops("advertise")}
    assert types == {
        "/visionkit/targets": "geometry_msgs/PoseArray",
        "/visionkit/tips": "std_msgs/String",
    }
    assert all(op["latch"] is False for op in rosbridge.ops("advertise"))
    assert rosbridge.errors == []


def test_publishes_every_field_of_the_pose_array_and_the_tips(
    rosbridge: Any, prediction: Prediction
) -> None:
    with RosAdapter(port=rosbridge.port) as adapter:
        adapter.write(prediction)
    (targets,) = _publishes(rosbridge, "/visionkit/targets")
    (tips,) = _publishes(rosbridge, "/visionkit/tips")
    header = targets["msg"]["header"]
    assert header["frame_id"] == "base_link"
    assert set(header["stamp"]) == {"secs", "nsecs"}
    assert all(isinstance(v, int) for v in header["stamp"].values())
    assert targets["msg"]["poses"] == [
        {
            "position": {"x": 0.1634, "y": 0.1012, "z": 0.057},
            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
        },
        {
            "position": {"x": 0.1676, "y": 0.1654, "z": 0.057},
            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
        },
    ]
    assert set(tips["msg"]) == {"data"}
    report = json.loads(tips["msg"]["data"])
    assert report["image"] == prediction.image
    assert report["model"]["name"] == "root-unet"
    assert report["stamp"] == header["stamp"]  # one plate, one stamp: the two messages pair up
    assert [(t["plant"], t["confidence"]) for t in report["tips"]] == [(1, 0.88), (4, 0.93)]
    assert report["tips"][1] == {
        "plant": 4,
        "confidence": 0.93,
        "x": 0.1676,
        "y": 0.1654,
        "z": 0.057,
        "pixel": {"x": 2100.25, "y": 2000.5},
    }
    assert {s["plant"]: s["reason"] for s in report["skipped"]} == {
        2: "tip confidence 0.75 is below the threshold 0.8",
        3: "no root tip found: root not found",
        5: "tip confidence 0.4 is below the threshold 0.8",
    }


def test_topic_frame_and_threshold_options_reach_the_bridge(
    rosbridge: Any, prediction: Prediction
) -> None:
    options = {
        "port": rosbridge.port,
        "targets_topic": "/ot2/targets",
        "tips_topic": "/ot2/tips",
        "frame_id": "deck",
        "threshold": 0.5,
        "latch": True,
    }
    with RosAdapter(**options) as adapter:
        adapter.write(prediction)
    (targets,) = _publishes(rosbridge, "/ot2/targets")
    (tips,) = _publishes(rosbridge, "/ot2/tips")
    assert targets["msg"]["header"]["frame_id"] == "deck"
    assert len(targets["msg"]["poses"]) == 3  # plant 2 (0.75) passes 0.5; 5 (0.4) does not
    assert [t["plant"] for t in json.loads(tips["msg"]["data"])["tips"]] == [1, 2, 4]
    assert {op["topic"] for op in rosbridge.ops("advertise")} == {"/ot2/targets", "/ot2/tips"}
    assert all(op["latch"] is True for op in rosbridge.ops("advertise") + rosbridge.ops("publish"))


def test_several_plates_share_one_connection_and_one_advertisement(
    rosbridge: Any, prediction: Prediction
) -> None:
    adapter = RosAdapter(port=rosbridge.port)
    for _ in range(3):
        adapter.write(prediction)
    adapter.close()
    adapter.close()  # twice is fine
    assert len(rosbridge.wait_for("publish", 6)) == 6
    assert len(rosbridge.ops("advertise")) == 2
    assert rosbridge.connections == 1
    assert len(adapter.sent) == 3
    poses = [op["msg"] for op in rosbridge.ops("publish") if op["topic"] == "/visionkit/targets"]
    stamps = [msg["header"]["stamp"] for msg in poses]
    assert len({(s["secs"], s["nsecs"]) for s in stamps}) == 3  # each plate its own stamp


def test_adapters_one_after_another_in_one_process(rosbridge: Any, prediction: Prediction) -> None:
    # Twisted's reactor cannot be restarted: each adapter closes its connection, never the reactor.
    for _ in range(3):
        with RosAdapter(port=rosbridge.port) as adapter:
            adapter.write(prediction)
    assert len(rosbridge.wait_for("publish", 6)) == 6
    assert rosbridge.connections == 3
    assert rosbridge.errors == []


def test_a_real_prediction_is_published_as_its_contract_json_says(
    rosbridge: Any, real_plate: Any
) -> None:
    prediction = real_plate.prediction
    with RosAdapter(port=rosbridge.port) as adapter:
        adapter.write(prediction)
    record = prediction.to_dict()
    confident = [
        p for p in record["plants"] if p["tip"] and p["tip"]["confidence"] >= 0.8 and p["robot"]
    ]
    assert confident, "the synthetic plate should have confident tips"
    (targets,) = _publishes(rosbridge, "/visionkit/targets")
    (tips,) = _publishes(rosbridge, "/visionkit/tips")
    positions = [pose["position"] for pose in targets["msg"]["poses"]]
    assert positions == [{k: p["robot"][k] for k in "xyz"} for p in confident]
    assert all(p["robot"]["frame"] == "ot2" for p in confident)
    report = json.loads(tips["msg"]["data"])
    assert [t["plant"] for t in report["tips"]] == [p["plant"] for p in confident]
    assert [t["pixel"] for t in report["tips"]] == [
        {"x": p["tip"]["x"], "y": p["tip"]["y"]} for p in confident
    ]
    listed = {t["plant"] for t in report["tips"]} | {s["plant"] for s in report["skipped"]}
    assert listed == {p["plant"] for p in record["plants"]}  # every plant accounted for
    assert report["model"] == record["model"]


def test_installed_plugin_registers_the_ros_adapter_through_its_entry_point(
    rosbridge: Any, prediction: Prediction
) -> None:
    pm = get_plugin_manager()
    assert "ros" in adapter_specs(pm)
    assert any(p["name"] == "visionkit-ros" and not p["builtin"] for p in list_plugins(pm))
    adapter = create_adapter("ros", pm, out_dir=None, port=str(rosbridge.port), frame_id="ot2")
    assert isinstance(adapter, RosAdapter)
    adapter.write(prediction)
    adapter.close()
    (targets,) = _publishes(rosbridge, "/visionkit/targets")
    assert targets["msg"]["header"]["frame_id"] == "ot2"
