"""The robot's own acceptance test: from a plate with known tips to where the robot dispenses.

A synthetic dish crop (its true tips known from the generator) sits on the
OT-2 deck under a known rigid placement (position and a small rotation). A
person's calibration is simulated: four fiducials measured with ±0.05 mm of
noise are fitted with ``visionkit.calibration_fit.fit_points`` (what
``visionkit calibrate`` runs). The plate is predicted with the shipped model,
the OT-2 protocol is written and run in Opentrons' own simulator, and each
dispense position from the simulator's run log is mapped back through the
*true* placement: every confident tip's dispense must lie within 1 mm of the
plate's true tip. The ROS and MQTT adapters' messages get the same check in
their plugins' tests (plugins/visionkit-ros, plugins/visionkit-mqtt) through
:func:`check_targets` below.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from visionkit import Prediction

pytest.importorskip("visionkit_ot2")

#: Where the plate lies on the deck: its pixel (0, 0) at (x0, y0) metres, turned by ANGLE.
X0_M, Y0_M, Z_M, ANGLE_DEG = 0.118, 0.062, 0.057, 1.5
CONFIDENT = 0.8
TOLERANCE_MM = 1.0


class Placement:
    """The true rigid map of plate pixels to deck metres (and back)."""

    def __init__(self, mm_per_px: float) -> None:
        turn = math.radians(ANGLE_DEG)
        scale = mm_per_px / 1000.0
        self.matrix = scale * np.array(
            [[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]]
        )
        self.offset = np.array([X0_M, Y0_M])

    def to_deck(self, points: np.ndarray) -> np.ndarray:
        """Pixels ``(N, 2)`` -> deck metres ``(N, 2)``."""
        return np.asarray(points, float) @ self.matrix.T + self.offset

    def to_plate(self, points: np.ndarray) -> np.ndarray:
        """Deck metres ``(N, 2)`` -> pixels ``(N, 2)``."""
        return (np.asarray(points, float) - self.offset) @ np.linalg.inv(self.matrix).T


def reference_plate() -> tuple[np.ndarray, list[tuple[float, float]], float, str]:
    """The smoke check's plate (five plants, 2577 x 2577 px): image, true tips, mm/px, name."""
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(11, SynthConfig(), index=4).cropped()
    tips = [(p["tip"]["x"], p["tip"]["y"]) for p in plate.landmarks["plants"]
            if p.get("present", True) and p.get("tip")]  # fmt: skip
    return plate.image, tips, float(plate.landmarks["dish"]["mm_per_px"]), plate.name


def calibrated_prediction(tmp_path: Path) -> tuple[Prediction, Placement, list[Any], Path]:
    """Predict the plate, calibrate from noisy fiducials, apply it; also the true tips."""
    from visionkit import Predictor, load_model
    from visionkit.calibration_fit import fit_points

    image, tips, mm_per_px, name = reference_plate()
    placement = Placement(mm_per_px)
    fiducials = np.array([[150, 150], [2420, 180], [2400, 2430], [170, 2400]], float)
    rng = np.random.default_rng(7)
    measured = placement.to_deck(fiducials) + rng.normal(0, 0.05e-3, (4, 2))
    report = fit_points(fiducials, np.column_stack([measured, np.full(4, Z_M)]), frame="ot2")
    assert report.warnings == []
    assert max(report.errors_mm) < 0.2
    calibration_file = report.calibration.save(tmp_path / "deck.json")
    root = Path(__file__).resolve().parents[2]
    predicted = Predictor(load_model(root / "visionkit" / "models" / "default")).predict(
        image, name=name
    )
    return report.calibration.apply(predicted), placement, tips, calibration_file


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The calibrated prediction of the plate, its true placement and tips (made once)."""
    prediction, placement, tips, calibration = calibrated_prediction(
        tmp_path_factory.mktemp("closed-loop")
    )
    return {"prediction": prediction, "placement": placement, "tips": tips,
            "mm_per_px": reference_plate()[2], "calibration": calibration}  # fmt: skip


def check_targets(
    targets: Iterable[tuple[int, float, float, float]],
    prediction: Prediction,
    placement: Placement,
    true_tips: list[tuple[float, float]],
    mm_per_px: float,
) -> int:
    """Every ``(plant, confidence, x_m, y_m)`` target with confidence >= 0.8 lies within 1 mm.

    Returns how many confident targets were checked.
    """
    checked = 0
    for plant, confidence, x_m, y_m in targets:
        if confidence < CONFIDENT:
            continue
        px, py = placement.to_plate(np.array([[x_m, y_m]]))[0]
        miss = min(math.hypot(px - tx, py - ty) for tx, ty in true_tips) * mm_per_px
        assert miss <= TOLERANCE_MM, f"plant {plant}: dispensed {miss:.2f} mm from its true tip"
        checked += 1
    return checked


_SIMULATE = """
import json, sys
from opentrons.simulate import simulate
with open(sys.argv[1], encoding="utf-8") as handle:
    log, _ = simulate(handle, file_name=sys.argv[1])
points = []
for entry in log:
    payload = entry["payload"]
    point = getattr(payload.get("location"), "point", None)
    if payload["text"].startswith("Dispensing") and point is not None:
        points.append([point.x, point.y, point.z, payload["text"]])
print("RESULT" + json.dumps(points))
"""


def _opentrons_python() -> str:
    """The interpreter with Opentrons' simulator (its own venv: opentrons pins numpy<2)."""
    root = Path(__file__).resolve().parents[2]
    local = root / "plugins" / "visionkit-ot2" / ".venv" / "bin" / "python"
    for candidate in (os.environ.get("VISIONKIT_OT2_SIMULATOR_PYTHON"), str(local)):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("opentrons is not installed (make setup makes plugins/visionkit-ot2/.venv)")


def test_the_ot2_simulator_dispenses_within_1_mm_of_every_confident_true_tip(
    tmp_path: Path, loop: dict[str, Any]
) -> None:
    from visionkit_ot2.adapter import Ot2Adapter

    python = _opentrons_python()
    prediction, placement, tips = loop["prediction"], loop["placement"], loop["tips"]
    mm_per_px = loop["mm_per_px"]
    Ot2Adapter(tmp_path / "ot2").write(prediction)
    protocol = tmp_path / "ot2" / f"{prediction.stem}.ot2.py"
    done = subprocess.run(
        [python, "-c", _SIMULATE, str(protocol)], capture_output=True, text=True,
        env={**os.environ, "HOME": str(tmp_path / "home")}, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    dispenses = json.loads(line.removeprefix("RESULT"))
    targets = json.loads((tmp_path / "ot2" / f"{prediction.stem}.ot2.json").read_text())
    assert len(dispenses) == len(targets["targets"]) >= 4
    # the run log's dispense points, in deck mm, paired with the targets' plants in order
    run = [(t["plant"], t["confidence"], x / 1000.0, y / 1000.0)
           for t, (x, y, _z, _text) in zip(targets["targets"], dispenses, strict=True)]  # fmt: skip
    assert check_targets(run, prediction, placement, tips, mm_per_px) >= 4
    # the run log's dispense lines, kept for docs/robots.md (artifacts/ is not committed)
    kept = Path(__file__).resolve().parents[2] / "artifacts" / "robots"
    kept.mkdir(parents=True, exist_ok=True)
    (kept / "closed-loop-ot2.log").write_text("\n".join(d[3] for d in dispenses) + "\n")


def test_the_ros_messages_point_within_1_mm_of_every_confident_true_tip(
    loop: dict[str, Any],
) -> None:
    pytest.importorskip("visionkit_ros")
    from visionkit_ros.adapter import RosAdapter
    from visionkit_ros.testing import FakeRosbridge

    bridge = FakeRosbridge().start()
    try:
        adapter = RosAdapter(host="127.0.0.1", port=bridge.port, retries=1, timeout_s=5)
        adapter.write(loop["prediction"])
        adapter.close()
        published = bridge.wait_for("publish", 2)
    finally:
        bridge.stop()
    by_topic = {op["topic"]: op["msg"] for op in published}
    poses = by_topic["/visionkit/targets"]["poses"]
    listed = json.loads(by_topic["/visionkit/tips"]["data"])
    accepted = listed["tips"]
    assert len(poses) == len(accepted) >= 4
    for pose, tip in zip(poses, accepted, strict=True):
        assert (pose["position"]["x"], pose["position"]["y"]) == pytest.approx((tip["x"], tip["y"]))
    targets = [(t["plant"], t["confidence"], p["position"]["x"], p["position"]["y"])
               for t, p in zip(accepted, poses, strict=True)]  # fmt: skip
    assert check_targets(targets, loop["prediction"], loop["placement"], loop["tips"],
                         loop["mm_per_px"]) >= 4  # fmt: skip


def _broker() -> tuple[str, int]:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 1883)) != 0:
            pytest.skip("no MQTT broker on 127.0.0.1:1883 (.ci/run starts Debian's mosquitto)")
    return "127.0.0.1", 1883


def test_the_mqtt_tip_messages_point_within_1_mm_of_every_confident_true_tip(
    loop: dict[str, Any],
) -> None:
    pytest.importorskip("visionkit_mqtt")
    import paho.mqtt.client as mqtt
    from visionkit_mqtt.adapter import MqttAdapter

    host, port = _broker()
    prefix = f"closed-loop-{uuid.uuid4().hex[:8]}"
    received: list[dict[str, Any]] = []
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber.on_message = lambda _c, _u, message: received.append(
        {"topic": message.topic, "payload": json.loads(message.payload)}
    )
    subscriber.connect(host, port)
    subscriber.subscribe(f"{prefix}/#", qos=1)
    subscriber.loop_start()
    try:
        time.sleep(0.3)  # the subscription is in place before anything is published
        adapter = MqttAdapter(host=host, port=port, topic_prefix=prefix, qos=1)
        adapter.write(loop["prediction"])
        adapter.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any("/tips/" in m["topic"] for m in received):
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    tips = [m["payload"] for m in received if "/tips/" in m["topic"]]
    assert len(tips) >= 4
    targets = [(t["plant"], t["confidence"], t["x"], t["y"]) for t in tips]
    assert check_targets(targets, loop["prediction"], loop["placement"], loop["tips"],
                         loop["mm_per_px"]) >= 4  # fmt: skip
