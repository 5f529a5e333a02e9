"""A rosbridge stand-in for tests of robot code: it records what a client publishes.

:class:`FakeRosbridge` is an asyncio ``websockets`` server on 127.0.0.1 in a
thread that speaks as much of rosbridge's v2 JSON protocol as a publisher
needs: it records every operation a client sends (``advertise``,
``publish``, ``unadvertise``...), checks each against the protocol (a publish
on a topic the connection did not advertise is an error, as on rosbridge),
and answers ``call_service`` the way rosbridge answers a service nobody
provides. It lets this plugin's tests, visionkit's closed-loop acceptance
test and a lab's own robot code check the messages without a ROS install.
Needs ``websockets`` (the ``test`` extra).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["FakeRosbridge", "Received"]

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass(frozen=True)
class Received:
    """One operation a client sent: which connection (1, 2...) and the JSON object."""

    connection: int
    op: dict[str, Any]


class FakeRosbridge:
    """A rosbridge stand-in that records what clients send. Use :meth:`start` and :meth:`stop`."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:<port>``."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> FakeRosbridge:
        """Listen (in a thread) and return once the port is bound."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:  # e.g. the port is taken: start() reports it
                self._failure = exc
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-rosbridge", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake rosbridge did not start within 10 s")
        if self._failure is not None:
            raise RuntimeError(f"the fake rosbridge could not start: {self._failure}")
        return self

    def stop(self) -> None:
        """Close every connection (code 1001) and stop listening; safe to call twice."""
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    async def _serve(self, ready: threading.Event) -> None:
        from websockets.asyncio.server import serve

        self._stopping = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", self.port) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            ready.set()
            await self._stopping.wait()

    async def _handle(self, websocket: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        with self._lock:
            self.connections += 1
            connection = self.connections
        advertised: dict[str, str] = {}
        try:
            async for raw in websocket:
                reply = self._receive(connection, raw, advertised)
                if reply is not None:
                    await websocket.send(json.dumps(reply))
        except ConnectionClosed:
            pass

    def _receive(
        self, connection: int, raw: str | bytes, advertised: dict[str, str]
    ) -> dict[str, Any] | None:
        """Record one frame, check it as rosbridge would; the reply to send, if any."""
        try:
            op = json.loads(raw)
        except ValueError:
            self._error(f"connection {connection}: not JSON: {raw!r}")
            return None
        with self._lock:
            self.received.append(Received(connection, op))
        kind = op.get("op")
        topic = op.get("topic")
        if kind == "advertise":
            if not isinstance(topic, str) or not isinstance(op.get("type"), str):
                self._error(f"advertise without topic or type: {op}")
            else:
                advertised[topic] = op["type"]
        elif kind == "publish":
            if topic not in advertised:
                self._error(f"publish on {topic!r}, which this connection did not advertise")
            if not isinstance(op.get("msg"), dict):
                self._error(f"publish without a msg object: {op}")
        elif kind == "unadvertise":
            if advertised.pop(topic, None) is None:
                self._error(f"unadvertise of {topic!r}, which was not advertised")
        elif kind == "call_service":
            return {
                "op": "service_response",
                "id": op.get("id"),
                "service": op.get("service"),
                "values": f"Service {op.get('service')} does not exist",
                "result": False,
            }
        else:
            self._error(f"unexpected op {kind!r}: {op}")
        return None

    def _error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def ops(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The operations received so far, oldest first; only ``kind`` ones if given."""
        with self._lock:
            return [r.op for r in self.received if kind is None or r.op.get("op") == kind]

    def wait_for(self, kind: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` operations of ``kind`` arrived; returns them all.

        The pong that confirms delivery to the client can overtake this
        server's own handler, so tests wait here instead of reading at once.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.ops(kind)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)
