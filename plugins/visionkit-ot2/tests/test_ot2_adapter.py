"""The ot2 adapter's files: what targets it takes, what it leaves out and why."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from visionkit_ot2.adapter import Ot2Adapter

from visionkit import Calibration, Prediction, RobotPoint
from visionkit.exceptions import AdapterError, UnknownNameError
from visionkit.plugins import create_adapter, get_plugin_manager


def _only(out: Path, suffix: str) -> Path:
    (found,) = out.glob(f"*{suffix}")
    return found


def _record(out: Path) -> dict:
    return json.loads(_only(out, ".ot2.json").read_text(encoding="utf-8"))


def _protocol_text(out: Path) -> str:
    return _only(out, ".ot2.py").read_text(encoding="utf-8")


def test_writes_protocol_and_targets_named_after_the_image(
    tmp_path: Path, prediction: Prediction
) -> None:
    with Ot2Adapter(tmp_path) as adapter:
        adapter.write(prediction)
    stem = "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected"
    protocol = tmp_path / f"{stem}.ot2.py"
    assert adapter.written == [protocol, tmp_path / f"{stem}.ot2.json"]
    record = _record(tmp_path)
    assert record["protocol"] == protocol.name
    assert record["image"] == prediction.image
    assert [t["plant"] for t in record["targets"]] == [1, 2, 4]
    first = record["targets"][0]
    assert (first["x_mm"], first["y_mm"], first["z_mm"]) == (163.4, 101.2, 57.0)
    assert first["pixel"] == {"x": 812.0, "y": 1930.5}
    assert first["confidence"] == 0.88
    text = protocol.read_text(encoding="utf-8")
    assert "(1, 163.4, 101.2, 57.0)" in text
    assert "'apiLevel': '2.15'" in text
    compile(text, str(protocol), "exec")
    assert not list(tmp_path.glob("*.partial"))


def test_plants_without_a_tip_are_listed_as_comments(
    tmp_path: Path, prediction: Prediction
) -> None:
    Ot2Adapter(tmp_path).write(prediction)
    skipped = {s["plant"]: s["reason"] for s in _record(tmp_path)["skipped"]}
    assert skipped[3] == "no root tip found: root not found"
    text = _protocol_text(tmp_path)
    assert "#   plant 3: no root tip found: root not found" in text


def test_plant_without_robot_point_is_skipped_with_a_warning_when_no_calibration(
    tmp_path: Path, prediction: Prediction, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="visionkit_ot2"):
        Ot2Adapter(tmp_path).write(prediction)
    skipped = {s["plant"]: s["reason"] for s in _record(tmp_path)["skipped"]}
    assert "no robot point" in skipped[5]
    assert "calibration" in skipped[5]
    assert any(
        "plant 5" in r.getMessage() and prediction.image in r.getMessage() for r in caplog.records
    )
    # a plant with no tip at all is not worth a warning: the prediction already says so
    assert not any("plant 3" in r.getMessage() for r in caplog.records)


def test_calibration_preset_maps_plants_that_have_no_robot_point(
    tmp_path: Path, make_prediction: Callable[..., Prediction]
) -> None:
    prediction = make_prediction(with_robot=False)
    Ot2Adapter(tmp_path, calibration="ot2").write(prediction)
    expected = Calibration.preset("ot2").apply(prediction)
    targets = {t["plant"]: t for t in _record(tmp_path)["targets"]}
    assert sorted(targets) == [1, 2, 4, 5]
    for plant in expected.plants:
        if plant.robot is None:
            continue
        got = targets[plant.plant]
        assert got["x_mm"] == pytest.approx(plant.robot.x * 1000, abs=1e-3)
        assert got["y_mm"] == pytest.approx(plant.robot.y * 1000, abs=1e-3)
        assert got["z_mm"] == pytest.approx(57.0)
    assert "frame:       ot2" in _record(tmp_path)["calibration"]


def test_existing_robot_points_win_over_the_calibration(
    tmp_path: Path, prediction: Prediction
) -> None:
    Ot2Adapter(tmp_path, calibration="ot2").write(prediction)
    targets = {t["plant"]: t for t in _record(tmp_path)["targets"]}
    assert targets[1]["x_mm"] == 163.4  # from the prediction, not recomputed
    assert 5 in targets  # plant 5 had no robot point: the preset mapped it


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_calibration_file_is_loaded(
    tmp_path: Path, make_prediction: Callable[..., Prediction], suffix: str
) -> None:
    calibration = Calibration.fit(
        [[0, 0], [2597, 0], [0, 2599]],
        [[0.1, 0.05, 0.06], [0.1, 0.18, 0.06], [0.23, 0.05, 0.06]],
        frame="ot2",
    )
    path = calibration.save(tmp_path / f"deck3{suffix}")
    out = tmp_path / "out"
    Ot2Adapter(out, calibration=str(path)).write(make_prediction(with_robot=False))
    first = _record(out)["targets"][0]
    robot = calibration.to_robot(812.0, 1930.5)
    assert first["x_mm"] == pytest.approx(robot.x * 1000, abs=1e-3)
    assert first["z_mm"] == pytest.approx(60.0)


def test_calibration_object_is_accepted(
    tmp_path: Path, make_prediction: Callable[..., Prediction]
) -> None:
    adapter = Ot2Adapter(tmp_path, calibration=Calibration.preset("ot2"))
    targets, skipped = adapter.plan(make_prediction(with_robot=False))
    assert [t.plant for t in targets] == [1, 2, 4, 5]
    assert [s.plant for s in skipped] == [3]


def test_unknown_calibration_preset_lists_the_presets(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="ot2"):
        Ot2Adapter(tmp_path, calibration="ot3")


def test_plate_calibration_without_a_dish_skips_the_plants(
    tmp_path: Path, make_prediction: Callable[..., Prediction], caplog: pytest.LogCaptureFixture
) -> None:
    adapter = Ot2Adapter(tmp_path, calibration="ot2")
    with caplog.at_level(logging.WARNING, logger="visionkit_ot2"):
        targets, skipped = adapter.plan(make_prediction(with_robot=False, dish=False))
    assert targets == []
    reasons = {s.plant: s.reason for s in skipped}
    assert "could not map" in reasons[1]
    assert any("calibration failed" in r.getMessage() for r in caplog.records)


def test_robot_point_in_another_frame_is_not_used(tmp_path: Path, prediction: Prediction) -> None:
    plants = [
        dataclasses.replace(p, robot=RobotPoint("ur5", 0.1, 0.1, 0.05)) if p.robot else p
        for p in prediction.plants
    ]
    targets, skipped = Ot2Adapter(tmp_path).plan(dataclasses.replace(prediction, plants=plants))
    assert targets == []
    assert "frame 'ur5', not 'ot2'" in {s.plant: s.reason for s in skipped}[1]


def test_low_confidence_tips_are_left_out(tmp_path: Path, prediction: Prediction) -> None:
    targets, skipped = Ot2Adapter(tmp_path, min_confidence=0.8).plan(prediction)
    assert [t.plant for t in targets] == [1, 4]
    assert "below min_confidence 0.8" in {s.plant: s.reason for s in skipped}[2]


def test_points_off_the_deck_are_left_out(tmp_path: Path, prediction: Prediction) -> None:
    # robot points given in millimetres instead of metres: 1000x too far
    plants = [
        dataclasses.replace(p, robot=RobotPoint("ot2", 163.4, 101.2, 57.0)) if p.robot else p
        for p in prediction.plants
    ]
    targets, skipped = Ot2Adapter(tmp_path).plan(dataclasses.replace(prediction, plants=plants))
    assert targets == []
    assert "outside the OT-2 deck" in {s.plant: s.reason for s in skipped}[1]


def test_unwritable_output_folder_raises_adapter_error(
    tmp_path: Path, prediction: Prediction
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(AdapterError, match="not-a-folder"):
        Ot2Adapter(blocker / "out").write(prediction)


def test_default_output_folder_is_the_current_one(
    tmp_path: Path, prediction: Prediction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Ot2Adapter().write(prediction)
    assert _only(tmp_path, ".ot2.py").is_file()


def test_visionkit_creates_the_adapter_by_name(tmp_path: Path, prediction: Prediction) -> None:
    adapter = create_adapter("ot2", get_plugin_manager(), out_dir=tmp_path, volume_ul="3")
    assert isinstance(adapter, Ot2Adapter)
    adapter.write(prediction)
    adapter.close()
    assert _record(tmp_path)["volume_ul"] == 3.0


def test_a_plate_where_every_plant_is_usable_says_none_left_out(
    tmp_path: Path, prediction: Prediction
) -> None:
    usable = [p for p in prediction.plants if p.robot is not None]
    Ot2Adapter(tmp_path).write(dataclasses.replace(prediction, plants=usable))
    text = _protocol_text(tmp_path)
    assert "# Plants left out: none." in text
    assert _record(tmp_path)["skipped"] == []
