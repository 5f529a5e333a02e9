"""One rosbridge connection: opened when needed, reopened with backoff, and checked.

:class:`RosbridgeLink` wraps a ``roslibpy.Ros`` (rosbridge's JSON protocol
over a websocket). :meth:`~RosbridgeLink.deliver` sends a plate's messages
and only returns once the bridge has confirmed it received them; a failed
attempt (nothing listening, no websocket handshake, no confirmation, the
connection dropped) closes that connection and reconnects after a wait that
doubles each time, a bounded number of times, then raises an
:class:`~visionkit.exceptions.AdapterError` naming ``ws://host:port``, the
attempts and the last error. Nothing is dropped without that error.

How it confirms: rosbridge does not acknowledge a ``publish``, so after the
messages the link sends a websocket ping and waits for its pong. A websocket
server answers a ping only after reading every frame sent before it, so the
pong means the bridge's websocket server has the messages. A plate sent again
after a failed confirmation carries the same ``header.stamp``: a receiver can
drop a repeat by it.

Why the connection is kept open between plates, and never the event loop
stopped: roslibpy's default transport runs Twisted's reactor in a daemon
thread, and a stopped reactor cannot be started again in the same process. So
the link closes connections (``Ros.close``), never terminates the reactor
(``Ros.terminate``); the idle thread does not keep a command from exiting.
roslibpy's own reconnecting (endless, from a background thread) is switched
off: reconnecting is done here, where it is bounded and reported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from visionkit.exceptions import AdapterError
from visionkit_ros.options import RosOptions

__all__ = ["Outgoing", "RosbridgeLink"]

logger = logging.getLogger(__name__)

_POLL_S = 0.02


@dataclass(frozen=True)
class Outgoing:
    """One message to publish: the topic, its ROS type and the message itself."""

    topic: str
    type: str
    message: Mapping[str, Any]


class _AttemptError(Exception):
    """One attempt at delivering failed; the message says why, for the final error."""


class RosbridgeLink:
    """A rosbridge client that delivers messages or says clearly why it could not.

    Args:
        options: host, port, timeout, retries, backoff and latching
            (:class:`~visionkit_ros.options.RosOptions`).

    Not thread-safe: one writer at a time, as visionkit's adapters are used.
    """

    def __init__(self, options: RosOptions) -> None:
        self.options = options
        self._ros: Any = None
        self._lost = threading.Event()
        self._topics: dict[str, Any] = {}
        #: How many connections were opened (the first one and reconnections).
        self.connections = 0

    @property
    def url(self) -> str:
        """``ws://host:port`` of the bridge."""
        return self.options.url

    @property
    def is_connected(self) -> bool:
        """Whether a connection is open now."""
        return self._ros is not None and bool(self._ros.is_connected) and not self._lost.is_set()

    def deliver(self, messages: Sequence[Outgoing], what: str) -> int:
        """Publish ``messages`` and wait until the bridge confirms it received them.

        Args:
            messages: what to publish, in order; each topic is advertised
                once per connection before its first message.
            what: what is being sent, for logs and errors (e.g. the image name).

        Returns:
            The attempt that succeeded (1 when the first did).

        Raises:
            AdapterError: every attempt failed; names the endpoint, the
                number of attempts, how long they took and the last error.
        """
        options = self.options
        attempts = options.retries
        started = time.monotonic()
        last = "no attempt made"
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                wait = options.backoff(attempt)
                logger.info("reconnecting to rosbridge %s in %.2f s", self.url, wait)
                time.sleep(wait)
            try:
                self._connect()
                self._publish(messages)
                self._confirm()
            except _AttemptError as exc:
                last = str(exc)
                self._drop()
                logger.warning(
                    "rosbridge %s: attempt %d/%d for %s failed: %s",
                    self.url,
                    attempt,
                    attempts,
                    what,
                    last,
                )
                continue
            logger.debug("%s delivered to rosbridge %s (attempt %d)", what, self.url, attempt)
            return attempt
        elapsed = time.monotonic() - started
        waits = ", ".join(f"{options.backoff(n):g}" for n in range(2, attempts + 1))
        between = f", waiting {waits} s between them" if waits else ""
        raise AdapterError(
            f"rosbridge at {self.url} did not take {what}: {attempts} attempt(s) in "
            f"{elapsed:.1f} s{between}; last error: {last}. Check that rosbridge "
            f"runs there (ROS 2: ros2 launch rosbridge_server rosbridge_websocket_launch.xml; "
            f"ROS 1: roslaunch rosbridge_server rosbridge_websocket.launch) and the ros "
            f"adapter's host and port options (VISIONKIT_ROS_HOST, VISIONKIT_ROS_PORT)"
        )

    def close(self) -> None:
        """Unadvertise the topics and close the connection cleanly; safe to call twice."""
        ros = self._ros
        if ros is None:
            return
        try:
            if self.is_connected:
                for topic in self._topics.values():
                    topic.unadvertise()
                ros.close(self.options.timeout_s)  # the close frame follows the unadvertise ops
                if not self._lost.wait(self.options.timeout_s):
                    logger.warning(
                        "rosbridge %s did not finish closing within %g s; dropping the connection",
                        self.url,
                        self.options.timeout_s,
                    )
        except Exception as exc:  # roslibpy raises its own errors; closing must not fail a run
            logger.warning("rosbridge %s: error while closing: %s", self.url, exc)
        finally:
            self._drop()

    # -- one attempt ---------------------------------------------------------

    def _connect(self) -> None:
        """Open a connection unless one is open: TCP first, then the websocket handshake."""
        if self.is_connected:
            return
        self._drop()
        options = self.options
        try:
            # roslibpy waits out its whole timeout when nothing listens; a plain
            # TCP connection says at once (connection refused, no route, DNS).
            with socket.create_connection((options.host, options.port), options.timeout_s):
                pass
        except OSError as exc:
            raise _AttemptError(f"cannot open a TCP connection: {exc}") from exc

        import roslibpy
        from roslibpy.core import RosTimeoutError

        lost = threading.Event()
        ros = roslibpy.Ros(options.host, options.port)
        # Reconnecting is bounded and reported here; roslibpy's would go on forever.
        ros.factory.maxRetries = 0
        ros.on("close", lambda *_: lost.set())
        self._ros, self._lost, self._topics = ros, lost, {}
        try:
            ros.run(options.timeout_s)
        except RosTimeoutError as exc:
            raise _AttemptError(
                f"the websocket handshake timed out after {options.timeout_s:g} s "
                f"(something accepts connections there but does not answer as rosbridge)"
            ) from exc
        self.connections += 1
        logger.info("connected to rosbridge %s", self.url)

    def _publish(self, messages: Sequence[Outgoing]) -> None:
        import roslibpy

        for item in messages:
            topic = self._topics.get(item.topic)
            if topic is None:
                topic = roslibpy.Topic(
                    self._ros,
                    item.topic,
                    item.type,
                    latch=self.options.latch,
                    reconnect_on_close=False,  # a new connection advertises afresh
                )
                topic.advertise()
                self._topics[item.topic] = topic
            topic.publish(roslibpy.Message(dict(item.message)))

    def _confirm(self) -> None:
        """Ping the bridge and wait for the pong that follows the messages."""
        timeout = self.options.timeout_s
        protocol = self._protocol()
        if protocol is None:
            raise _AttemptError("the connection closed before the messages could be sent")
        payload = os.urandom(8)
        pong = threading.Event()

        def on_pong(data: bytes) -> None:
            if data == payload:
                pong.set()

        protocol.onPong = on_pong  # autobahn calls it when a pong arrives
        self._ros.call_later(0, lambda: protocol.sendPing(payload))  # on the IO thread
        deadline = time.monotonic() + timeout
        while not pong.wait(_POLL_S):
            if self._lost.is_set():
                raise _AttemptError("the bridge closed the connection before confirming receipt")
            if time.monotonic() > deadline:
                raise _AttemptError(
                    f"the bridge did not confirm receipt within {timeout:g} s (no websocket pong)"
                )

    def _protocol(self) -> Any:
        """The open websocket protocol of the connection, or ``None``."""
        if not self.is_connected:
            return None
        found: list[Any] = []
        self._ros.factory.on_ready(found.append)  # runs at once on an open connection
        return found[0] if found else None

    def _drop(self) -> None:
        """Forget the connection: stop its reconnecting, close its socket, stop its logging."""
        ros, self._ros, self._topics = self._ros, None, {}
        if ros is None:
            return
        factory = ros.factory

        def stop() -> None:
            stop_trying = getattr(factory, "stopTrying", None)
            if callable(stop_trying):
                stop_trying()
            connector = getattr(factory, "connector", None)
            if connector is not None:
                connector.disconnect()

        try:
            ros.call_later(0, stop)
        except Exception as exc:  # the IO loop is gone (interpreter shutdown)
            logger.debug("rosbridge %s: cannot stop the old connection: %s", self.url, exc)
        # Each roslibpy.Ros starts a Twisted-to-logging observer that it never stops.
        observer = getattr(getattr(factory, "_manager", None), "_log_observer", None)
        if observer is not None:
            with contextlib.suppress(ValueError):  # already stopped
                observer.stop()
