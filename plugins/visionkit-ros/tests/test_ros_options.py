"""The ros adapter's options: defaults, text from a command line or the environment, bad values."""

from __future__ import annotations

import pytest
from visionkit_ros.options import RosOptions

from visionkit.exceptions import AdapterError


def test_defaults_reach_a_local_rosbridge_and_keep_the_portals_threshold() -> None:
    options = RosOptions.from_mapping({}, environ={})
    assert options.url == "ws://127.0.0.1:9090"
    assert (options.targets_topic, options.tips_topic) == ("/visionkit/targets", "/visionkit/tips")
    assert options.frame_id == "base_link"
    assert options.threshold == 0.8
    assert options.z is None
    assert (options.timeout_s, options.retries, options.backoff_s) == (5.0, 3, 0.5)
    assert [options.backoff(attempt) for attempt in (2, 3, 4)] == [0.5, 1.0, 2.0]
    assert options.latch is False


def test_values_typed_as_text_are_coerced() -> None:
    options = RosOptions.from_mapping(
        {
            "host": "robot.local",
            "port": "9091",
            "threshold": "0.5",
            "z": "0.01",
            "timeout_s": "2",
            "retries": "5",
            "backoff_s": "0",
            "latch": "yes",
            "frame_id": "ot2_deck",
        },
        environ={},
    )
    assert options.url == "ws://robot.local:9091"
    assert (options.threshold, options.z, options.timeout_s) == (0.5, 0.01, 2.0)
    assert (options.retries, options.backoff_s, options.latch) == (5, 0.0, True)
    assert options.frame_id == "ot2_deck"


def test_the_environment_fills_options_not_given_and_a_given_one_wins() -> None:
    environ = {"VISIONKIT_ROS_HOST": "10.0.0.7", "VISIONKIT_ROS_PORT": "9999"}
    options = RosOptions.from_mapping({"port": 9090}, environ=environ)
    assert options.url == "ws://10.0.0.7:9090"


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    with pytest.raises(AdapterError, match="VISIONKIT_ROS_PORT='ninety'"):
        RosOptions.from_mapping({}, environ={"VISIONKIT_ROS_PORT": "ninety"})


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(AdapterError, match="unknown ros adapter option") as caught:
        RosOptions.from_mapping({"topic": "/x"}, environ={})
    assert "targets_topic" in str(caught.value)
    assert "threshold" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "wanted"),
    [
        ("host", "ws://robot:9090", "without ws://"),
        ("port", 0, "1 to 65535"),
        ("port", "70000", "1 to 65535"),
        ("port", 9090.5, "whole number"),
        ("targets_topic", "visionkit targets", "ROS topic name"),
        ("tips_topic", "/visionkit//tips", "ROS topic name"),
        ("tips_topic", "/visionkit/targets", "other than targets_topic"),
        ("threshold", 1.5, "from 0 to 1"),
        ("threshold", "high", "a number"),
        ("z", "nan", "finite"),
        ("timeout_s", 0, "above 0"),
        ("retries", 0, "at least 1"),
        ("backoff_s", -1, "0 or more"),
        ("latch", "maybe", "true or false"),
        ("frame_id", "", "non-empty"),
    ],
)
def test_bad_value_names_the_option_and_what_to_give(name: str, value: object, wanted: str) -> None:
    with pytest.raises(AdapterError, match=name) as caught:
        RosOptions.from_mapping({name: value}, environ={})
    assert wanted in str(caught.value)
