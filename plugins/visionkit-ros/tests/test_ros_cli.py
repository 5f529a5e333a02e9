"""The ros adapter through the real ``visionkit`` command: listed, publishing, failing loudly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import visionkit
from visionkit.cli import main

_DOWN = {"VISIONKIT_ROS_RETRIES": "2", "VISIONKIT_ROS_BACKOFF_S": "0.05"}


def _predict(plate: Path, out: Path, adapters: str, env: dict[str, str]) -> Any:
    args = ["predict", str(plate), "--out", str(out), "--adapter", adapters]
    args += ["--calibration", "ot2", "--no-overlay"]
    return CliRunner().invoke(main, args, env=env)


def test_visionkit_lists_the_ros_plugin_and_adapter() -> None:
    runner = CliRunner()
    plugins = runner.invoke(main, ["plugins"])
    assert plugins.exit_code == 0, plugins.output
    assert "visionkit-ros 0.1.0" in plugins.output
    adapters = runner.invoke(main, ["adapters"])
    assert adapters.exit_code == 0, adapters.output
    assert any(line.split()[:1] == ["ros"] for line in adapters.output.splitlines())


def test_the_visionkit_package_imports_no_plugin() -> None:
    package = Path(visionkit.__file__).parent
    mentions = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "visionkit_ros" in path.read_text(encoding="utf-8")
    ]
    assert mentions == []


def test_a_down_bridge_fails_the_image_loudly_and_keeps_the_outputs_before_it(
    tmp_path: Path, real_plate: Any, free_tcp_port: int
) -> None:
    env = {**_DOWN, "VISIONKIT_ROS_PORT": str(free_tcp_port)}
    result = _predict(real_plate.path, tmp_path, "json,ros", env)
    assert result.exit_code == 1
    (error,) = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert f"rosbridge at ws://127.0.0.1:{free_tcp_port} did not take" in error
    assert "2 attempt(s)" in error
    assert "0 image(s) predicted, 1 failed" in result.output
    record = json.loads((tmp_path / f"{real_plate.path.stem}.json").read_text(encoding="utf-8"))
    assert record["plants"]
    assert record["plants"][0]["robot"]["frame"] == "ot2"


def test_a_down_bridge_loses_no_other_adapters_output(
    tmp_path: Path, real_plate: Any, free_tcp_port: int
) -> None:
    env = {**_DOWN, "VISIONKIT_ROS_PORT": str(free_tcp_port)}
    result = _predict(real_plate.path, tmp_path, "ros,json,csv", env)
    assert result.exit_code == 1
    assert f"ws://127.0.0.1:{free_tcp_port}" in result.output
    assert (tmp_path / f"{real_plate.path.stem}.json").is_file()
    assert real_plate.path.name in (tmp_path / "predictions.csv").read_text(encoding="utf-8")


def test_visionkit_predict_publishes_and_exits(
    tmp_path: Path, real_plate: Any, rosbridge: Any
) -> None:
    env = {**os.environ, "VISIONKIT_ROS_PORT": str(rosbridge.port)}
    env.pop("VISIONKIT_DISABLE_PLUGIN_AUTOLOAD", None)
    command = [sys.executable, "-m", "visionkit", "predict", str(real_plate.path)]
    command += ["--out", str(tmp_path), "--adapter", "json,ros", "--calibration", "ot2"]
    # A Twisted reactor thread left running must not keep the command from exiting.
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "1 image(s) predicted, 0 failed" in done.stdout
    (targets,) = [
        op for op in rosbridge.wait_for("publish", 2) if op["topic"] == "/visionkit/targets"
    ]
    record = json.loads((tmp_path / f"{real_plate.path.stem}.json").read_text(encoding="utf-8"))
    confident = [
        p for p in record["plants"] if p["tip"] and p["tip"]["confidence"] >= 0.8 and p["robot"]
    ]
    assert [pose["position"] for pose in targets["msg"]["poses"]] == [
        {k: p["robot"][k] for k in "xyz"} for p in confident
    ]
    assert [op["op"] for op in rosbridge.wait_for("unadvertise", 2)] == ["unadvertise"] * 2
    assert rosbridge.errors == []


def test_adapter_options_on_the_command_line_reach_the_adapter(
    tmp_path: Path, real_plate: Any, rosbridge: Any
) -> None:
    args = ["predict", str(real_plate.path), "--out", str(tmp_path), "--adapter", "json,ros"]
    args += ["--calibration", "ot2", "--no-overlay", "--adapter-option",
             f"ros.port={rosbridge.port}", "--adapter-option", "ros.frame_id=deck"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (targets,) = [
        op for op in rosbridge.wait_for("publish", 2) if op["topic"] == "/visionkit/targets"
    ]
    assert targets["msg"]["header"]["frame_id"] == "deck"
    wrong = CliRunner().invoke(main, [*args[:-4], "--adapter-option", "ros.nope=1"])
    assert wrong.exit_code != 0
    assert "unknown ros adapter option(s) nope" in wrong.output
