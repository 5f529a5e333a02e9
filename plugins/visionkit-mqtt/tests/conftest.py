"""Shared fixtures: real Mosquitto brokers, a real subscriber, and a real prediction.

Every test talks to a real broker: the one on 127.0.0.1:1883 when something
accepts connections there (CI and the development machine run one:
``mosquitto -d -c /etc/mosquitto/mosquitto.conf``), otherwise one started
from Debian's ``mosquitto`` package on a free port.
``VISIONKIT_TEST_MQTT_BROKER=host:port`` names another shared broker, and
``VISIONKIT_TEST_MQTT_BROKER=none`` always starts one. Tests that need a broker
of their own (credentials, TLS, one that goes down) start it with
:func:`start_broker`; without the ``mosquitto`` binary they skip, saying so.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import Client, MQTTMessage, MQTTv311
from paho.mqtt.enums import CallbackAPIVersion

import visionkit
from visionkit import Calibration, Prediction
from visionkit.synth import SynthConfig, generate_plate

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = PLUGIN_ROOT.parents[1]
DEFAULT_MODEL = REPO_ROOT / "visionkit" / "models" / "default"

#: Where CI and the development machine run a broker.
SHARED_HOST, SHARED_PORT = "127.0.0.1", 1883


def accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mosquitto_binary() -> str | None:
    """Debian's broker: ``mosquitto`` on the PATH or in /usr/sbin (not on root's PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


@dataclass
class Broker:
    """A Mosquitto broker a test started, with its own config file and log."""

    folder: Path
    port: int
    config: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    def start(self) -> Broker:
        """Start the broker and wait until it accepts connections (fails with its log)."""
        binary = mosquitto_binary()
        assert binary is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", *self.config]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to user mosquitto, who cannot read tmp
        lines += [f"log_dest file {self.folder / 'mosquitto.log'}", "log_type all"]
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.process = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                pytest.fail(f"mosquitto exited at start: {err}{self.log()}")
            if accepts(self.host, self.port, timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"mosquitto did not listen on port {self.port} within 10 s: {self.log()}")

    def stop(self) -> None:
        """Stop the broker (if running) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    @property
    def endpoint(self) -> Endpoint:
        """Where this broker listens."""
        return Endpoint(self.host, self.port)

    def log(self) -> str:
        """The broker's log so far, for failure messages."""
        path = self.folder / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@dataclass(frozen=True)
class Endpoint:
    """Where a broker listens."""

    host: str
    port: int


@pytest.fixture(scope="session")
def mosquitto() -> str:
    """The mosquitto binary; skips the test when Debian's package is not installed."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed: `apt-get install mosquitto` (Debian's broker)")
    return binary


def shared_broker() -> Endpoint | None:
    """The broker to share, from ``VISIONKIT_TEST_MQTT_BROKER`` (``host:port``, or ``none``)."""
    given = os.environ.get("VISIONKIT_TEST_MQTT_BROKER", f"{SHARED_HOST}:{SHARED_PORT}")
    if given.strip().lower() == "none":
        return None
    host, _, port = given.rpartition(":")
    return Endpoint(host or SHARED_HOST, int(port))


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A running broker: the shared one (127.0.0.1:1883) when it is up, else one started here."""
    shared = shared_broker()
    if shared is not None and accepts(shared.host, shared.port):
        yield shared
        return
    if mosquitto_binary() is None:
        where = f"on {shared.host}:{shared.port}" if shared else "named"
        pytest.skip(
            f"no MQTT broker {where} and mosquitto is not installed: "
            "`apt-get install mosquitto` or start one"
        )
    own = Broker(tmp_path_factory.mktemp("broker"), free_port(), ["allow_anonymous true"])
    own.start()
    yield Endpoint(own.host, own.port)
    own.stop()


@pytest.fixture
def start_broker(tmp_path: Path, mosquitto: str) -> Iterator[Callable[..., Broker]]:
    """Start brokers of the test's own: ``start_broker(config=[...], port=None, run=True)``."""
    started: list[Broker] = []

    def start(
        config: Sequence[str] = ("allow_anonymous true",), port: int | None = None, run: bool = True
    ) -> Broker:
        made = Broker(tmp_path / f"broker{len(started)}", port or free_port(), list(config))
        started.append(made)
        return made.start() if run else made

    yield start
    for made in started:
        made.stop()


@pytest.fixture
def unused_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    return free_port()


@pytest.fixture(autouse=True)
def _no_mqtt_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from an environment without VISIONKIT_MQTT_* (they set what they need)."""
    for name in list(os.environ):
        if name.startswith("VISIONKIT_MQTT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test (or CI run on the shared broker) uses."""
    return f"visionkit-test/{uuid.uuid4().hex[:12]}"


@dataclass
class Subscriber:
    """A real paho subscriber on ``<prefix>/#`` that records every message it gets."""

    endpoint: Endpoint
    topic: str
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    messages: queue.Queue[MQTTMessage] = field(default_factory=queue.Queue)
    received: list[MQTTMessage] = field(default_factory=list)
    client: Client | None = None

    def start(self) -> Subscriber:
        """Connect and subscribe (QoS 2), returning once the broker confirmed the subscription."""
        client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv311)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.ca_file:
            client.tls_set(ca_certs=self.ca_file)
        subscribed = threading.Event()
        client.on_message = lambda c, u, message: self.messages.put(message)
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_connect = lambda c, u, f, reason, p: c.subscribe(self.topic, qos=2)
        client.connect(self.endpoint.host, self.endpoint.port, keepalive=30)
        client.loop_start()
        self.client = client
        assert subscribed.wait(10), f"no SUBACK from {self.endpoint} for {self.topic}"
        return self

    def wait_for(self, count: int, timeout: float = 10.0) -> list[MQTTMessage]:
        """Every message so far once there are ``count`` (fails the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            try:
                left = max(0.0, deadline - time.monotonic())
                self.received.append(self.messages.get(timeout=left))
            except queue.Empty:
                topics = [m.topic for m in self.received]
                got = len(self.received)
                pytest.fail(f"got {got} of {count} messages in {timeout} s: {topics}")
        return list(self.received)

    def quiet_for(self, seconds: float) -> list[MQTTMessage]:
        """Every message that arrives within ``seconds`` (and those before)."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(queue.Empty):
            while (left := deadline - time.monotonic()) > 0:
                self.received.append(self.messages.get(timeout=left))
        return list(self.received)

    def stop(self) -> None:
        """Disconnect; safe to call twice."""
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None


@pytest.fixture
def subscribe(broker: Endpoint) -> Iterator[Callable[..., Subscriber]]:
    """``subscribe(prefix, endpoint=broker, **auth)``: a started :class:`Subscriber` on prefix/#."""
    made: list[Subscriber] = []

    def start(prefix: str, endpoint: Endpoint | None = None, **auth: Any) -> Subscriber:
        subscriber = Subscriber(endpoint or broker, f"{prefix}/#", **auth)
        made.append(subscriber)
        return subscriber.start()

    yield start
    for subscriber in made:
        subscriber.stop()


@pytest.fixture
def clear_retained(broker: Endpoint) -> Iterator[list[str]]:
    """Topics to clear on the shared broker after the test (an empty retained message each)."""
    topics: list[str] = []
    yield topics
    if not topics:
        return
    client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv311)
    client.connect(broker.host, broker.port)
    client.loop_start()
    for topic in topics:
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@dataclass(frozen=True)
class RealPlate:
    """A synthetic plate predicted by the default model, then mapped with the ``ot2`` preset."""

    image: Any
    uncalibrated: Prediction
    prediction: Prediction
    calibration: Calibration


@pytest.fixture(scope="session")
def real_plate() -> RealPlate:
    """One real prediction (about 10 s on a CPU), shared by the whole session.

    Seed 8: all five seeds germinated, so five tips are there to publish.
    """
    plate = generate_plate(8, SynthConfig().scaled(0.25), index=0).cropped()
    predictor = visionkit.Predictor(visionkit.load_model(DEFAULT_MODEL))
    uncalibrated = predictor.predict(plate.image, name="mqtt_plate_007.png")
    calibration = Calibration.resolve("ot2")
    assert calibration is not None
    return RealPlate(plate.image, uncalibrated, calibration.apply(uncalibrated), calibration)


@pytest.fixture
def prediction(real_plate: RealPlate) -> Prediction:
    """The real plate's prediction with OT-2 robot points (metres)."""
    return real_plate.prediction
