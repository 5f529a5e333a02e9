"""When the robot side is down: bounded reconnection with backoff, then a clear error."""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from visionkit_ros.adapter import RosAdapter

from visionkit import Prediction
from visionkit.exceptions import AdapterError


def _failed_attempts(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "visionkit_ros.connection" and "failed" in r.getMessage()
    ]


def test_nothing_listening_fails_after_the_attempts_with_doubling_waits(
    prediction: Prediction, caplog: pytest.LogCaptureFixture, free_tcp_port: int
) -> None:
    adapter = RosAdapter(port=free_tcp_port)  # defaults: 3 attempts, 0.5 s then 1 s between
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="visionkit_ros"),
        pytest.raises(AdapterError) as caught,
    ):
        adapter.write(prediction)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert f"ws://127.0.0.1:{free_tcp_port}" in message
    assert "3 attempt(s)" in message
    assert "Connection refused" in message
    assert prediction.image in message
    attempts = _failed_attempts(caplog)
    assert [f"attempt {n}/3" in r.getMessage() for n, r in enumerate(attempts, 1)] == [True] * 3
    gaps = [later.created - earlier.created for earlier, later in itertools.pairwise(attempts)]
    # Refused connections fail at once, so the gaps are the waits (loose above: a busy CI).
    assert 0.45 <= gaps[0] < 0.9
    assert 0.95 <= gaps[1] < 1.6
    assert 1.5 <= elapsed < 4.0
    adapter.close()  # nothing open: a no-op


def test_a_server_that_never_answers_the_handshake_times_out(
    prediction: Prediction, silent_port: int
) -> None:
    adapter = RosAdapter(port=silent_port, timeout_s=0.5, retries=2, backoff_s=0.1)
    started = time.monotonic()
    with pytest.raises(AdapterError, match=f"ws://127.0.0.1:{silent_port}") as caught:
        adapter.write(prediction)
    assert "2 attempt(s)" in str(caught.value)
    assert "handshake timed out after 0.5 s" in str(caught.value)
    assert time.monotonic() - started >= 2 * 0.5 + 0.1
    adapter.close()


def test_a_bridge_that_stops_answering_is_not_taken_for_a_delivery(
    prediction: Prediction, mute_port: int
) -> None:
    adapter = RosAdapter(port=mute_port, timeout_s=0.5, retries=2, backoff_s=0.1)
    with pytest.raises(AdapterError, match=f"ws://127.0.0.1:{mute_port}") as caught:
        adapter.write(prediction)
    assert "did not confirm receipt within 0.5 s" in str(caught.value)
    assert adapter.sent == []
    adapter.close()


def test_a_bridge_that_comes_up_during_the_retries_gets_the_plate(
    prediction: Prediction,
    start_rosbridge: Callable[..., Any],
    free_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridges: list[Any] = []
    later = threading.Timer(0.4, lambda: bridges.append(start_rosbridge(free_tcp_port)))
    later.start()
    adapter = RosAdapter(port=free_tcp_port, retries=6, backoff_s=0.2)
    with caplog.at_level(logging.WARNING, logger="visionkit_ros"):
        adapter.write(prediction)
    later.join()
    adapter.close()
    (bridge,) = bridges
    assert len(_failed_attempts(caplog)) >= 1
    assert len(bridge.wait_for("publish", 2)) == 2
    assert bridge.errors == []


def test_a_bridge_restarted_between_plates_gets_the_next_one_on_a_new_connection(
    prediction: Prediction, start_rosbridge: Callable[..., Any]
) -> None:
    first = start_rosbridge()
    adapter = RosAdapter(port=first.port, backoff_s=0.1)
    adapter.write(prediction)
    first.stop()
    second = start_rosbridge(first.port)
    adapter.write(prediction)
    adapter.close()
    assert len(first.ops("publish")) == 2
    assert [op["op"] for op in second.wait_for("unadvertise", 2)] == ["unadvertise"] * 2
    assert [op["op"] for op in second.ops()][:4] == ["advertise", "publish", "advertise", "publish"]
    assert adapter.link.connections == 2
    assert second.errors == []


def test_a_prediction_without_calibration_fails_before_connecting(
    rosbridge: Any, make_prediction: Callable[..., Prediction]
) -> None:
    adapter = RosAdapter(port=rosbridge.port)
    with pytest.raises(AdapterError, match="--calibration"):
        adapter.write(make_prediction(with_robot=False))
    adapter.close()
    assert rosbridge.connections == 0


def test_given_up_connections_are_closed_and_not_retried_in_the_background(
    prediction: Prediction,
) -> None:
    # roslibpy reconnects forever on its own; the adapter turns that off and closes what it opened.
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.05)
        port = listener.getsockname()[1]

        def accept_for(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    accepted.append(listener.accept()[0])

        adapter = RosAdapter(port=port, timeout_s=0.3, retries=2, backoff_s=0.1)
        server = threading.Thread(target=accept_for, args=(4.0,))
        server.start()
        with pytest.raises(AdapterError, match="handshake timed out"):
            adapter.write(prediction)
        at_failure = len(accepted)
        server.join()
    try:
        assert at_failure == 4  # per attempt: the TCP probe and the websocket connection
        assert len(accepted) == at_failure  # nothing came back in the 3 s after
        for client in accepted:
            client.settimeout(1.0)
            while client.recv(65536):  # read the handshake request up to the client's close
                pass
    finally:
        for client in accepted:
            client.close()
