"""The ``webhook`` adapter against a real local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from visionkit.adapters.webhook import TOKEN_ENV
from visionkit.exceptions import AdapterError
from visionkit.plugins import create_adapter
from visionkit.prediction import Keypoint, Plant

FAST = {"backoff": 0.01, "timeout": 5}


@dataclass
class Hook:
    """A local endpoint: answers ``plan`` statuses in turn, then ``then``."""

    url: str = ""
    plan: list[int] = field(default_factory=list)
    then: int = 200
    delay: float = 0.0
    bodies: list[bytes] = field(default_factory=list)
    headers: list[Message] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.bodies.append(body)
            state.headers.append(self.headers)
            if state.delay:
                time.sleep(state.delay)
            status = state.plan.pop(0) if state.plan else state.then
            payload = b'{"ok": true}' if status < 300 else b"try again later"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_webhook_retries_503_then_delivers_the_contract_json(hook: Hook, make_prediction) -> None:
    hook.plan = [503, 503]
    waits: list[float] = []
    prediction = make_prediction()
    adapter = create_adapter("webhook", url=hook.url, retries=3, backoff=0.25, sleep=waits.append)
    adapter.write(prediction)
    adapter.close()
    adapter.close()

    assert len(hook.bodies) == 3
    assert json.loads(hook.bodies[-1]) == prediction.to_dict()
    assert hook.headers[-1]["Content-Type"] == "application/json"
    assert waits == [0.25, 0.5], "exponential backoff between attempts"
    assert adapter.delivered == 1


def test_webhook_a_rerun_repeats_its_idempotency_key_and_a_new_result_changes_it(
    hook: Hook, make_prediction
) -> None:
    adapter = create_adapter("webhook", url=hook.url, **FAST)
    adapter.write(make_prediction("a.png", timing_ms={"total": 640.0}))
    adapter.write(make_prediction("a.png", timing_ms={"total": 655.0}))  # the same plate again
    adapter.write(make_prediction("a.png", missing=(1, 3)))  # another result for it
    keys = [headers["Idempotency-Key"] for headers in hook.headers]
    assert len(keys[0]) == 64
    assert keys[0] == keys[1]
    assert keys[2] != keys[0]


def test_webhook_retries_429(hook: Hook, make_prediction) -> None:
    hook.plan = [429]
    create_adapter("webhook", url=hook.url, **FAST).write(make_prediction())
    assert len(hook.bodies) == 2


def test_webhook_gives_up_after_retries_naming_url_attempts_and_status(
    hook: Hook, make_prediction
) -> None:
    hook.then = 500
    adapter = create_adapter("webhook", url=hook.url, retries=4, **FAST)
    with pytest.raises(AdapterError) as info:
        adapter.write(make_prediction("plate_9.png"))
    message = str(info.value)
    assert hook.url in message
    assert "after 4 attempts" in message
    assert "HTTP 500" in message
    assert "plate_9.png" in message
    assert len(hook.bodies) == 4


def test_webhook_does_not_retry_a_client_error(hook: Hook, make_prediction) -> None:
    hook.then = 400
    with pytest.raises(AdapterError, match=r"refused plate_001.png after 1 attempt.*HTTP 400"):
        create_adapter("webhook", url=hook.url, **FAST).write(make_prediction())
    assert len(hook.bodies) == 1


def test_webhook_retries_a_timeout(hook: Hook, make_prediction) -> None:
    hook.delay = 0.6
    with pytest.raises(AdapterError, match=r"after 2 attempts; last error: .*Timeout"):
        create_adapter("webhook", url=hook.url, retries=2, timeout=0.2, backoff=0).write(
            make_prediction()
        )
    assert len(hook.bodies) == 2


def test_webhook_connection_refused_is_an_adapter_error(make_prediction) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    with pytest.raises(
        AdapterError, match=r"after 2 attempts; last error: ConnectionError"
    ) as info:
        create_adapter("webhook", url=url, retries=2, **FAST).write(make_prediction())
    assert url in str(info.value)


def test_webhook_sends_the_token_from_the_environment(
    hook: Hook, make_prediction, monkeypatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    create_adapter("webhook", url=hook.url, headers={"X-Lab": "npec"}).write(make_prediction())
    assert hook.headers[0]["Authorization"] == "Bearer s3cret"
    assert hook.headers[0]["X-Lab"] == "npec"


def test_webhook_explicit_authorization_wins_and_token_stays_out_of_errors(
    hook: Hook, make_prediction, monkeypatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    hook.then = 401
    adapter = create_adapter("webhook", url=hook.url, headers={"authorization": "Basic abc"})
    with pytest.raises(AdapterError) as info:
        adapter.write(make_prediction())
    assert hook.headers[0]["Authorization"] == "Basic abc"
    assert "s3cret" not in str(info.value)


def test_webhook_refuses_nan_without_sending(hook: Hook, make_prediction) -> None:
    bad = make_prediction(
        "nan.png", plants=[Plant(1, tip=Keypoint(1.0, 2.0, float("inf")), start=None)]
    )
    with pytest.raises(AdapterError, match=r"nan\.png: the prediction holds NaN or infinity"):
        create_adapter("webhook", url=hook.url).write(bad)
    assert hook.bodies == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs a url option"),
        ({"url": "ftp://host/x"}, "is not an http"),
        ({"url": "http://[::1/x"}, "cannot be parsed"),
        ({"url": "http://host/x", "retries": 0}, "retries must be at least 1"),
        ({"url": "http://host/x", "timeout": 0}, "timeout must be > 0"),
        ({"url": "http://host/x", "backoff": -1}, "backoff >= 0"),
    ],
)
def test_webhook_bad_options(options: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=message):
        create_adapter("webhook", out_dir=tmp_path, **options)


def test_webhook_unparsable_port_fails_without_retry(make_prediction) -> None:
    waits: list[float] = []
    adapter = create_adapter("webhook", url="http://localhost:99999/x", sleep=waits.append)
    with pytest.raises(AdapterError, match="cannot be reached"):
        adapter.write(make_prediction())
    assert waits == []
