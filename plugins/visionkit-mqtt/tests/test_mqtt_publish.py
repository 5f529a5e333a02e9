"""Publishing to a real Mosquitto broker: a real subscriber gets every message, QoS and retain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from visionkit_mqtt.adapter import MqttAdapter
from visionkit_mqtt.messages import accepted_tips

from visionkit import Prediction
from visionkit.plugins import adapter_specs, create_adapter, get_plugin_manager

if TYPE_CHECKING:  # conftest is not importable when pytest runs in importlib mode
    from conftest import Broker, Endpoint, Subscriber


def _by_topic(messages: list) -> dict:
    return {m.topic: json.loads(m.payload) for m in messages}


def test_a_subscriber_receives_the_contract_and_every_accepted_tip(
    broker: Endpoint,
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
) -> None:
    subscriber = subscribe(prefix)
    with MqttAdapter(host=broker.host, port=broker.port, topic_prefix=prefix) as adapter:
        adapter.write(prediction)
    tips = accepted_tips(prediction, 0.8)
    assert tips, "the synthetic plate should have confident tips"
    got = _by_topic(subscriber.wait_for(1 + len(tips)))
    assert len(got) == 1 + len(tips)
    assert got[f"{prefix}/predictions/mqtt_plate_007"] == prediction.to_dict()
    contract = {p.plant: p for p in prediction.plants}
    for tip in tips:
        message = got[f"{prefix}/tips/mqtt_plate_007/{tip['plant']}"]
        assert message == tip
        plant = contract[tip["plant"]]
        assert plant.tip is not None
        assert plant.robot is not None
        assert message["confidence"] == pytest.approx(plant.tip.confidence, abs=1e-4)
        assert message["pixel"] == pytest.approx({"x": plant.tip.x, "y": plant.tip.y}, abs=0.01)
        assert (message["x"], message["y"], message["z"]) == pytest.approx(
            (plant.robot.x, plant.robot.y, plant.robot.z), abs=1e-6
        )
        assert message["model"]["name"] == prediction.model.name
    assert adapter.delivered == 1 + len(tips)
    assert subscriber.quiet_for(0.3) == subscriber.received  # nothing more


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_each_message_arrives_with_the_qos_asked_for(
    broker: Endpoint,
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
    qos: int,
) -> None:
    subscriber = subscribe(prefix)  # subscribed at QoS 2: a message keeps its own QoS
    with MqttAdapter(host=broker.host, port=broker.port, topic_prefix=prefix, qos=qos) as adapter:
        adapter.write(prediction)
    count = 1 + len(accepted_tips(prediction, 0.8))
    assert {m.qos for m in subscriber.wait_for(count)} == {qos}
    assert not any(m.retain for m in subscriber.received)


def test_a_retained_prediction_reaches_a_subscriber_that_connects_afterwards(
    broker: Endpoint,
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
    clear_retained: list[str],
) -> None:
    adapter = MqttAdapter(host=broker.host, port=broker.port, topic_prefix=prefix, retain=True)
    adapter.write(prediction)
    adapter.close()
    count = 1 + len(accepted_tips(prediction, 0.8))
    clear_retained += [m.topic for m in subscribe(prefix).wait_for(count)]
    # write() returned only after the broker acknowledged each message, so it has them all
    late = subscribe(prefix).wait_for(count)
    assert all(m.retain for m in late)
    assert _by_topic(late)[f"{prefix}/predictions/mqtt_plate_007"] == prediction.to_dict()


def test_a_rerun_with_retain_clears_tips_that_are_no_longer_accepted(
    broker: Endpoint,
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
    clear_retained: list[str],
) -> None:
    clear_retained += [f"{prefix}/predictions/mqtt_plate_007"]
    clear_retained += [f"{prefix}/tips/mqtt_plate_007/{p.plant}" for p in prediction.plants]
    options: dict[str, Any] = {
        "host": broker.host,
        "port": broker.port,
        "topic_prefix": prefix,
        "retain": True,
    }
    with MqttAdapter(**options, threshold=0.0) as first:
        first.write(prediction)
    assert len(accepted_tips(prediction, 0.0)) >= 3
    live = subscribe(prefix)  # gets the first run's retained messages, then the second run
    with MqttAdapter(**options, threshold=1.0) as second:  # no tip is accepted now
        second.write(prediction)
    count = 1 + len(accepted_tips(prediction, 0.0))  # retained from the first run
    count += 1 + len(prediction.plants)  # the second run: prediction, one empty per plant
    assert sum(1 for m in live.wait_for(count) if m.payload == b"") == len(prediction.plants)
    late = subscribe(prefix).quiet_for(0.5)
    assert [m.topic for m in late] == [f"{prefix}/predictions/mqtt_plate_007"]


def test_without_retain_a_later_subscriber_gets_nothing(
    broker: Endpoint,
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
) -> None:
    with MqttAdapter(host=broker.host, port=broker.port, topic_prefix=prefix) as adapter:
        adapter.write(prediction)
    assert subscribe(prefix).quiet_for(0.5) == []


def test_one_connection_carries_a_whole_run(
    broker: Endpoint,
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
) -> None:
    subscriber = subscribe(prefix)
    with MqttAdapter(host=broker.host, port=broker.port, topic_prefix=prefix) as adapter:
        adapter.write(prediction)
        adapter.write(prediction)
    count = 1 + len(accepted_tips(prediction, 0.8))
    assert len(subscriber.wait_for(2 * count)) == 2 * count
    assert adapter.connections == 1
    adapter.close()  # a second close is harmless


def test_a_broker_restarted_between_two_plates_is_reconnected_to(
    start_broker: Callable[..., Broker],
    prefix: str,
    prediction: Prediction,
    subscribe: Callable[..., Subscriber],
) -> None:
    own = start_broker()
    adapter = MqttAdapter(port=own.port, topic_prefix=prefix, backoff_s=0.1)
    adapter.write(prediction)
    own.stop()
    own.start()
    subscriber = subscribe(prefix, endpoint=own.endpoint)
    adapter.write(prediction)
    adapter.close()
    subscriber.wait_for(1 + len(accepted_tips(prediction, 0.8)))
    assert adapter.connections == 2


def test_visionkit_creates_the_adapter_by_name_with_options(
    broker: Endpoint, prefix: str, prediction: Prediction, subscribe: Callable[..., Subscriber]
) -> None:
    assert "mqtt" in adapter_specs(get_plugin_manager())
    subscriber = subscribe(prefix)
    adapter = create_adapter(
        "mqtt",
        get_plugin_manager(),
        out_dir="ignored",
        port=str(broker.port),
        topic_prefix=prefix,
        threshold="1.0",
    )
    assert isinstance(adapter, MqttAdapter)
    adapter.write(prediction)
    adapter.close()
    (only,) = subscriber.wait_for(1)  # no tip reaches a threshold of 1
    assert only.topic == f"{prefix}/predictions/mqtt_plate_007"
