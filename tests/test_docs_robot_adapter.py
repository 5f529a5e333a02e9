"""docs/robots.md's "robot adapter in 50 lines", run as written against a TCP server.

The block is cut out of the page and loaded as a plugin file, as a reader would
with ``visionkit --plugin gantry_plugin.py``; a server in the test plays the
gantry: it reads the commands and answers ``OK``, or, for the down case, is
not there at all.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from visionkit import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint
from visionkit.cli import main
from visionkit.exceptions import AdapterError
from visionkit.plugins import create_adapter, get_plugin_manager

PAGE = Path(__file__).resolve().parents[1] / "docs" / "robots.md"


@pytest.fixture
def plugin_file(tmp_path: Path) -> Path:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("```python\n# gantry_plugin.py")
    block = text[start + len("```python\n") : text.index("```", start + 10)]
    assert len(block.splitlines()) <= 60, "the example has outgrown its title"
    path = tmp_path / "gantry_plugin.py"
    path.write_text(block, encoding="utf-8")
    return path


@pytest.fixture
def gantry() -> Iterator[tuple[int, list[str]]]:
    """A TCP server that keeps the command lines of each connection and answers OK."""
    received: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)

    def serve() -> None:
        try:
            link, _ = server.accept()
        except OSError:
            return
        with link:
            data = b""
            link.settimeout(1)
            while not data.endswith(b"\n") or b"DISPENSE" not in data or data.count(b"\n") % 4:
                chunk = link.recv(4096)
                if not chunk:
                    break
                data += chunk
            received.extend(data.decode().splitlines())
            link.sendall(b"OK\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()
    thread.join(timeout=5)


def _prediction() -> Prediction:
    plants = [
        Plant(
            1, Keypoint(812.0, 1930.5, 0.91), None, robot=RobotPoint("ot2", 0.1634, 0.1012, 0.057)
        ),
        Plant(
            2, Keypoint(1300.0, 1800.0, 0.45), None, robot=RobotPoint("ot2", 0.1571, 0.1254, 0.057)
        ),
        Plant(3, None, None, reason="root not found"),
    ]
    return Prediction(image="plate.png", width=2597, height=2599,
                      model=ModelInfo("root-unet", "3", "0" * 64),
                      dish=DishInfo((0, 0, 2597, 2599), 0.0496), plants=plants)  # fmt: skip


def test_the_page_example_sends_confident_tips_as_commands(
    plugin_file: Path, gantry: tuple[int, list[str]]
) -> None:
    port, received = gantry
    pm = get_plugin_manager([str(plugin_file)])
    with create_adapter("gantry", pm, port=port) as adapter:
        adapter.write(_prediction())
    assert received == [
        "MOVE 163.40 101.20 67.00",
        "MOVE 163.40 101.20 57.00",
        "DISPENSE 1",
        "MOVE 163.40 101.20 67.00",
    ]  # fmt: skip (plant 2 is below 0.8, plant 3 has no tip)
    listed = CliRunner().invoke(main, ["--plugin", str(plugin_file), "adapters"])
    assert "gantry" in listed.output


def test_the_page_example_names_the_gantry_when_it_is_down(plugin_file: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = create_adapter("gantry", get_plugin_manager([str(plugin_file)]), port=port,
                             attempts=2)  # fmt: skip
    with pytest.raises(AdapterError, match=f"gantry at 127.0.0.1:{port} did not take plate.png"):
        adapter.write(_prediction())
