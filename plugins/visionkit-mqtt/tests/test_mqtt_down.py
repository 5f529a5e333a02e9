"""When the robot side is down: bounded retries with backoff, then an error naming the endpoint."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from visionkit_mqtt.adapter import MqttAdapter
from visionkit_mqtt.messages import accepted_tips

from visionkit import Prediction
from visionkit.exceptions import AdapterError

if TYPE_CHECKING:  # conftest is not importable when pytest runs in importlib mode
    from conftest import Broker, Subscriber


def _attempt_times(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [r.created for r in caplog.records if "attempt" in r.getMessage()]


def test_nothing_listening_fails_after_the_retries_naming_the_endpoint(
    prediction: Prediction, caplog: pytest.LogCaptureFixture, unused_port: int
) -> None:
    port = unused_port
    adapter = MqttAdapter(port=port, retries=3, backoff_s=0.2, topic_prefix="down")
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="visionkit_mqtt"),
        pytest.raises(AdapterError, match=f"mqtt://127.0.0.1:{port}") as info,
    ):
        adapter.write(prediction)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert "after 3 attempt(s)" in message
    assert "Connection refused" in message
    count = 1 + len(accepted_tips(prediction, 0.8))
    assert f"{count} of {count} message(s) undelivered" in message
    assert "down/predictions/mqtt_plate_007" in message
    # waits of 0.2 s then 0.4 s between the three attempts
    times = _attempt_times(caplog)
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] == pytest.approx(0.2, abs=0.1)
    assert gaps[1] == pytest.approx(0.4, abs=0.1)
    assert 0.6 <= elapsed < 1.5
    adapter.close()


def test_creating_the_adapter_with_the_broker_down_does_not_fail(unused_port: int) -> None:
    adapter = MqttAdapter(port=unused_port)  # it connects on the first prediction
    adapter.close()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a hung broker."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def test_a_broker_that_never_answers_times_out_on_each_attempt(
    prediction: Prediction, silent_listener: int
) -> None:
    adapter = MqttAdapter(port=silent_listener, retries=2, backoff_s=0.1, timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(AdapterError, match=f"mqtt://127.0.0.1:{silent_listener}") as info:
        adapter.write(prediction)
    elapsed = time.monotonic() - started
    assert "did not answer within 0.3 s" in str(info.value)
    assert "after 2 attempt(s)" in str(info.value)
    assert 0.7 <= elapsed < 2.0  # two timeouts and one backoff
    adapter.close()


def test_a_broker_that_comes_up_during_the_retries_gets_everything(
    start_broker: Callable[..., Broker],
    subscribe: Callable[..., Subscriber],
    prefix: str,
    prediction: Prediction,
    caplog: pytest.LogCaptureFixture,
) -> None:
    late = start_broker(run=False)
    timer = threading.Timer(0.5, late.start)
    adapter = MqttAdapter(
        port=late.port, retries=6, backoff_s=0.25, topic_prefix=prefix, retain=True
    )
    timer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="visionkit_mqtt"):
            adapter.write(prediction)
    finally:
        timer.join()
    adapter.close()
    assert 1 <= len(_attempt_times(caplog)) < 6  # it failed first, then got through
    accepted = accepted_tips(prediction, 0.8)
    count = 1 + len(accepted)
    # retained, so a subscriber that connects now sees what was delivered
    assert len(subscribe(prefix, endpoint=late.endpoint).wait_for(count)) == count
    # and each plant whose tip was not accepted got its empty message, clearing a retained tip
    assert adapter.delivered == count + len(prediction.plants) - len(accepted)
