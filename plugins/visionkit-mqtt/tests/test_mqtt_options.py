"""The mqtt adapter's options and environment: defaults, coercion, and errors naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
from visionkit_mqtt.options import MqttOptions, Security

from visionkit.exceptions import AdapterError


def test_defaults_publish_to_a_local_broker_at_qos_1_without_retain() -> None:
    options = MqttOptions.from_mapping({}, environ={})
    assert (options.host, options.port, options.qos, options.retain) == (
        "127.0.0.1",
        1883,
        1,
        False,
    )
    assert (options.timeout_s, options.retries, options.threshold) == (5.0, 3, 0.8)
    assert options.prefix == "visionkit"


def test_values_typed_on_a_command_line_are_coerced() -> None:
    options = MqttOptions.from_mapping(
        {"port": "8883", "qos": "2", "retain": "true", "threshold": "0.5", "timeout_s": 1},
        environ={},
    )
    assert (options.port, options.qos, options.retain) == (8883, 2, True)
    assert (options.threshold, options.timeout_s) == (0.5, 1.0)


def test_missing_options_come_from_the_environment_and_given_ones_win() -> None:
    environ = {
        "VISIONKIT_MQTT_HOST": "robot.local",
        "VISIONKIT_MQTT_PORT": "1884",
        "VISIONKIT_MQTT_RETAIN": "1",
        "VISIONKIT_MQTT_TOPIC_PREFIX": "/lab2/visionkit/",
        "VISIONKIT_MQTT_QOS": "",  # empty means unset
    }
    options = MqttOptions.from_mapping({"port": 1999}, environ=environ)
    assert (options.host, options.port, options.retain, options.qos) == (
        "robot.local",
        1999,
        True,
        1,
    )
    assert options.prefix == "lab2/visionkit"


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    with pytest.raises(AdapterError, match="port") as info:
        MqttOptions.from_mapping({}, environ={"VISIONKIT_MQTT_PORT": "0"})
    assert "VISIONKIT_MQTT_PORT" in str(info.value)
    with pytest.raises(AdapterError, match="VISIONKIT_MQTT_QOS"):
        MqttOptions.from_mapping({}, environ={"VISIONKIT_MQTT_QOS": "one"})


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(AdapterError, match="hostname") as info:
        MqttOptions.from_mapping({"hostname": "x"}, environ={})
    assert "host, keepalive" in str(info.value)


def test_credentials_as_options_are_refused_pointing_at_the_environment() -> None:
    with pytest.raises(AdapterError, match="VISIONKIT_MQTT_PASSWORD") as info:
        MqttOptions.from_mapping({"username": "alice", "password": "s3cret"}, environ={})
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "wanted"),
    [
        ("port", 70000, "1 to 65535"),
        ("port", "http", "whole number"),
        ("port", True, "whole number"),
        ("qos", 3, "0, 1 or 2"),
        ("retain", "maybe", "true or false"),
        ("keepalive", -1, "0 (off)"),
        ("timeout_s", 0, "above 0"),
        ("timeout_s", "nan", "finite"),
        ("retries", 0, "at least 1"),
        ("retries", 2.5, "whole number"),
        ("backoff_s", -0.1, "0 or more"),
        ("threshold", 1.2, "from 0 to 1"),
        ("host", "mqtt://robot", "no scheme"),
        ("host", "", "non-empty"),
        ("topic_prefix", "lab/+/x", "wildcards"),
        ("topic_prefix", "$SYS", "not starting with $"),
        ("topic_prefix", "/", "wildcards"),
        ("client_id", "a\nb", "single line"),
    ],
)
def test_bad_value_names_the_option_and_what_to_give(name: str, value: object, wanted: str) -> None:
    with pytest.raises(AdapterError, match=name) as info:
        MqttOptions.from_mapping({name: value}, environ={})
    assert wanted in str(info.value)


def test_security_reads_credentials_and_tls_files_from_the_environment(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    security = Security.from_environ(
        {
            "VISIONKIT_MQTT_USERNAME": "alice",
            "VISIONKIT_MQTT_PASSWORD": "s3cret",
            "VISIONKIT_MQTT_CA_FILE": str(ca),
        }
    )
    assert (security.username, security.password, security.ca_file) == ("alice", "s3cret", str(ca))
    assert security.tls  # a CA file implies TLS
    assert "s3cret" not in repr(security)
    assert "s3cret" not in security.describe()
    assert "alice" in security.describe()
    assert str(ca) in security.describe()


def test_no_variables_mean_anonymous_without_tls() -> None:
    security = Security.from_environ({})
    assert not security.tls
    assert security.describe() == "anonymous, no TLS"
    assert (
        Security.from_environ({"VISIONKIT_MQTT_TLS": "1"}).describe().endswith("the system's CAs")
    )


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({"VISIONKIT_MQTT_TLS": "sometimes"}, "VISIONKIT_MQTT_TLS"),
        ({"VISIONKIT_MQTT_PASSWORD": "s3cret"}, "VISIONKIT_MQTT_USERNAME is not"),
        ({"VISIONKIT_MQTT_CA_FILE": "/no/such/ca.pem"}, "/no/such/ca.pem"),
    ],
)
def test_bad_security_variables_say_which_one(environ: dict[str, str], wanted: str) -> None:
    with pytest.raises(AdapterError, match=wanted) as info:
        Security.from_environ(environ)
    assert "s3cret" not in str(info.value)


def test_a_key_without_its_certificate_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "client.key"
    key.write_text("key", encoding="utf-8")
    with pytest.raises(AdapterError, match="VISIONKIT_MQTT_CERT_FILE"):
        Security.from_environ({"VISIONKIT_MQTT_KEY_FILE": str(key)})
