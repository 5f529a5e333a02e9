"""Through the real ``visionkit predict``: messages reach a subscriber, and a broker that is down
costs no other output.

``visionkit predict`` creates adapters with no options, so these runs set the
adapter's ``VISIONKIT_MQTT_*`` variables, as a user of the command line does.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from visionkit_mqtt.messages import accepted_tips

from visionkit import Prediction
from visionkit.cli import main
from visionkit.imageio import write_image

if TYPE_CHECKING:  # conftest is not importable when pytest runs in importlib mode
    from conftest import Endpoint, RealPlate, Subscriber

STEM = "mqtt_plate_007"


@pytest.fixture
def plate_png(tmp_path: Path, real_plate: RealPlate) -> Path:
    """The session's synthetic plate as a PNG file, named as the session's prediction."""
    return write_image(tmp_path / "plates" / f"{STEM}.png", real_plate.image)


def _run(plate: Path, out: Path, adapters: str, env: dict[str, str]) -> Result:
    """``visionkit predict PLATE --out OUT --adapter ADAPTERS --calibration ot2`` in-process."""
    model = Path(__file__).resolve().parents[3] / "visionkit" / "models" / "default"
    args = ["predict", str(plate), "--out", str(out), "--adapter", adapters]
    args += ["--calibration", "ot2", "--model", str(model)]
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_predict_publishes_what_the_json_adapter_writes(
    plate_png: Path,
    tmp_path: Path,
    broker: Endpoint,
    prefix: str,
    subscribe: Callable[..., Subscriber],
) -> None:
    subscriber = subscribe(prefix)
    out = tmp_path / "out"
    env = {
        "VISIONKIT_MQTT_HOST": broker.host,
        "VISIONKIT_MQTT_PORT": str(broker.port),
        "VISIONKIT_MQTT_TOPIC_PREFIX": prefix,
        "VISIONKIT_MQTT_QOS": "2",
    }
    result = _run(plate_png, out, "json,csv,mqtt", env)
    assert result.exit_code == 0, result.output
    written = json.loads((out / f"{STEM}.json").read_text(encoding="utf-8"))
    prediction = Prediction.from_dict(written)
    tips = accepted_tips(prediction, 0.8)
    got = {m.topic: json.loads(m.payload) for m in subscriber.wait_for(1 + len(tips))}
    published = got[f"{prefix}/predictions/{STEM}"]
    # the same object as <stem>.json, but for the mask file names only the json adapter knows
    assert published["masks"] == {}
    assert {**published, "masks": written["masks"]} == written
    for tip in tips:
        assert got[f"{prefix}/tips/{STEM}/{tip['plant']}"] == tip
    assert all(m.qos == 2 for m in subscriber.received)


def _outputs(out: Path) -> dict[str, bool]:
    """Which of the run's other outputs exist for the plate: json, its csv rows, the overlay."""
    table = out / "predictions.csv"
    rows = list(csv.DictReader(table.open(encoding="utf-8"))) if table.is_file() else []
    return {
        "json": (out / f"{STEM}.json").is_file(),
        "csv": any(row["image"] == f"{STEM}.png" for row in rows),
        "overlay": (out / f"{STEM}_overlay.png").is_file(),
    }


def test_a_broker_that_is_down_fails_the_run_but_the_files_are_written(
    plate_png: Path, tmp_path: Path, unused_port: int
) -> None:
    out = tmp_path / "out"
    env = {
        "VISIONKIT_MQTT_PORT": str(unused_port),
        "VISIONKIT_MQTT_RETRIES": "2",
        "VISIONKIT_MQTT_BACKOFF_S": "0.05",
    }
    result = _run(plate_png, out, "json,csv,mqtt", env)
    assert result.exit_code == 1
    assert f"mqtt://127.0.0.1:{unused_port}" in result.output
    assert "after 2 attempt(s)" in result.output
    assert "1 failed" in result.output
    outputs = _outputs(out)
    assert outputs["json"]
    assert outputs["csv"]


def test_a_broker_that_is_down_costs_no_other_output_whatever_the_adapter_order(
    plate_png: Path, tmp_path: Path, unused_port: int
) -> None:
    out = tmp_path / "out"
    env = {"VISIONKIT_MQTT_PORT": str(unused_port), "VISIONKIT_MQTT_RETRIES": "1"}
    result = _run(plate_png, out, "mqtt,json,csv", env)
    assert result.exit_code == 1
    assert f"mqtt://127.0.0.1:{unused_port}" in result.output
    assert _outputs(out) == {"json": True, "csv": True, "overlay": True}
