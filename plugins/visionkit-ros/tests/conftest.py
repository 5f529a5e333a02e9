"""Shared fixtures: a stand-in rosbridge, servers that misbehave, and plate predictions.

:class:`FakeRosbridge` is an asyncio ``websockets`` server on 127.0.0.1 in a
thread that speaks as much of rosbridge's v2 JSON protocol as a publisher
needs: it records every operation a client sends (``advertise``,
``publish``, ``unadvertise``...), checks each against the protocol (a publish
on a topic the connection did not advertise is an error, as on rosbridge),
and answers ``call_service`` the way rosbridge answers a service nobody
provides. roslibpy sends nothing on connecting (no ``/rosapi`` call; see
``roslibpy/ros.py``), so that answer is only there in case a later version does.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from visionkit_ros.testing import FakeRosbridge

from visionkit import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455: the handshake's accept key

#: Name of a Hades image, with the spaces the real ones have.
HADES_NAME = "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png"


@pytest.fixture(autouse=True)
def _no_ros_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the adapter's options themselves: no ``VISIONKIT_ROS_*`` of the shell."""
    import os

    for name in [n for n in os.environ if n.startswith("VISIONKIT_ROS_")]:
        monkeypatch.delenv(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def free_tcp_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused."""
    return free_port()


@pytest.fixture
def rosbridge() -> Iterator[FakeRosbridge]:
    """A running fake rosbridge on a free port, stopped after the test."""
    bridge = FakeRosbridge().start()
    yield bridge
    bridge.stop()


@pytest.fixture
def start_rosbridge() -> Iterator[Callable[..., FakeRosbridge]]:
    """Start fake rosbridges on demand (e.g. on a given port, later); all stopped at the end."""
    started: list[FakeRosbridge] = []

    def start(port: int = 0) -> FakeRosbridge:
        bridge = FakeRosbridge(port).start()
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listener accepts TCP connections but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
        yield int(listener.getsockname()[1])


@pytest.fixture
def mute_port() -> Iterator[int]:
    """A port whose server completes the websocket handshake, then never answers again."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    clients: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            clients.append(client)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    break
                request += chunk
            key = next(
                (
                    line.split(b":", 1)[1].strip()
                    for line in request.split(b"\r\n")
                    if line.lower().startswith(b"sec-websocket-key:")
                ),
                b"",
            )
            accept = base64.b64encode(hashlib.sha1(key + _WS_GUID.encode()).digest())
            client.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            # From here on it reads (so the client's sends never block) and answers nothing.

    thread = threading.Thread(target=serve, name="mute-server", daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(5)
    for client in clients:
        client.close()
    listener.close()


def plate_prediction(*, with_robot: bool = True) -> Prediction:
    """Five plants as on a Hades plate, in the OT-2 frame.

    Plant 1 (0.88) and 4 (0.93) are confident; 2 (0.75) and 5 (0.4) are
    not; 3 has no tip.
    """

    def robot(x: float, y: float) -> RobotPoint | None:
        return RobotPoint("ot2", x, y, 0.057) if with_robot else None

    plants = [
        Plant(
            1, Keypoint(812.0, 1930.5, 0.88), Keypoint(806, 820, 0.9), robot=robot(0.1634, 0.1012)
        ),
        Plant(2, Keypoint(1300.0, 1800.0, 0.75), None, robot=robot(0.1571, 0.1254)),
        Plant(3, None, Keypoint(1700, 810, 0.8), reason="root not found"),
        Plant(4, Keypoint(2100.25, 2000.5, 0.93), None, robot=robot(0.1676, 0.1654)),
        Plant(5, Keypoint(2500.0, 1500.0, 0.4), None, robot=robot(0.1428, 0.1854)),
    ]
    return Prediction(
        image=HADES_NAME,
        width=2597,
        height=2599,
        model=ModelInfo("root-unet", "3", "0" * 64),
        dish=DishInfo((0, 0, 2597, 2599), 0.0496),
        plants=plants,
    )


@pytest.fixture
def prediction() -> Prediction:
    """A hand-made plate whose plants 1 and 4 are confident tips with OT-2 robot points."""
    return plate_prediction()


@pytest.fixture
def make_prediction() -> Callable[..., Prediction]:
    """Build the hand-made plate, with or without robot points."""
    return plate_prediction


@dataclass(frozen=True)
class RealPlate:
    """A synthetic plate on disk and visionkit's prediction of it with the ``ot2`` calibration."""

    path: Path
    prediction: Prediction


@pytest.fixture(scope="session")
def real_plate(tmp_path_factory: pytest.TempPathFactory) -> RealPlate:
    """A quarter-scale synthetic plate predicted by the default model (a few seconds, once).

    Seed 8: all five seeds germinated, so every plant has a tip to publish.
    """
    from visionkit import synth
    from visionkit.imageio import write_image
    from visionkit.pipeline import Predictor

    plate = synth.generate_plate(8, synth.SynthConfig().scaled(0.25))
    path = tmp_path_factory.mktemp("plate") / plate.name
    write_image(path, plate.image)
    prediction = Predictor(calibration="ot2").predict(path)
    return RealPlate(path, prediction)
