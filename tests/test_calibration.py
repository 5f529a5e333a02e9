"""Calibration: pixels -> plate millimetres -> robot metres, fitted, loaded and saved."""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import numpy as np
import pytest

from visionkit import Calibration
from visionkit.calibration import preset_names
from visionkit.exceptions import CalibrationError, UnknownNameError
from visionkit.prediction import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint

DISH = DishInfo(bbox=(100, 200, 2700, 2800), mm_per_px=0.05)


def _robot(point: RobotPoint) -> list[float]:
    return [point.x, point.y, point.z]


# -- the OT-2 preset ---------------------------------------------------------


def test_ot2_preset_maps_the_known_points() -> None:
    ot2 = Calibration.preset("ot2")
    assert ot2.frame == "ot2"
    assert ot2.input_units == "plate_mm"
    corner = ot2.to_robot(100, 200, dish=DISH)
    assert _robot(corner) == pytest.approx([0.10775, 0.062, 0.057], abs=1e-12)
    # 10 mm right and 50 mm down of the dish corner: robot x follows the rows.
    tip = ot2.to_robot(300, 1200, dish=DISH)
    assert _robot(tip) == pytest.approx([0.15775, 0.072, 0.057], abs=1e-12)
    assert tip.frame == "ot2"


def test_ot2_preset_maps_plate_millimetres_directly() -> None:
    ot2 = Calibration.preset("ot2")
    plate = DishInfo(bbox=(0, 0, 1, 1), mm_per_px=1.0)  # pixels are millimetres
    assert _robot(ot2.to_robot(0, 0, dish=plate)) == pytest.approx([0.10775, 0.062, 0.057])
    assert _robot(ot2.to_robot(10, 50, dish=plate)) == pytest.approx([0.15775, 0.072, 0.057])


def test_plate_calibration_needs_the_dish() -> None:
    with pytest.raises(CalibrationError, match="pass the dish"):
        Calibration.preset("ot2").to_robot(300, 1200)


def test_unknown_preset_lists_the_valid_ones() -> None:
    assert "ot2" in preset_names()
    with pytest.raises(UnknownNameError, match=r"unknown calibration preset 'ot3'.*ot2"):
        Calibration.preset("ot3")


# -- from_plate ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [1.010, 2.020]),
        ({"swap_axes": True}, [1.020, 2.010]),
        ({"flip_x": True}, [0.990, 2.020]),
        ({"flip_y": True}, [1.010, 1.980]),
        ({"rotation_deg": 90}, [0.980, 2.010]),
        ({"rotation_deg": 180, "swap_axes": True}, [0.980, 1.990]),
    ],
)
def test_from_plate_orientation_options(options: dict, expected: list[float]) -> None:
    calibration = Calibration.from_plate(origin=(1.0, 2.0, 0.3), frame="deck", **options)
    plate = DishInfo((0, 0, 100, 100), 1.0)
    point = calibration.to_robot(10, 20, dish=plate)  # u = 10 mm, v = 20 mm
    assert [point.x, point.y] == pytest.approx(expected, abs=1e-12)
    assert (point.z, point.frame) == (0.3, "deck")
    assert calibration.mm_per_unit == pytest.approx(1.0)


def test_from_plate_needs_an_xyz_origin() -> None:
    with pytest.raises(CalibrationError, match="origin must be robot"):
        Calibration.from_plate(origin=(1.0, 2.0))


# -- fitting ------------------------------------------------------------------------


def _pixel_pairs(noise_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A camera at 20 px/mm, turned 30 degrees, offset on the deck."""
    rng = np.random.default_rng(4)
    pixels = rng.uniform(0, 2600, size=(8, 2))
    theta = math.radians(30)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    robot = pixels @ rotation.T * 0.00005 + [0.1, 0.05]
    robot += rng.normal(0, noise_m, size=robot.shape)
    return pixels, np.column_stack([robot, np.full(len(robot), 0.057)])


def test_fit_recovers_an_exact_map_with_zero_residual() -> None:
    pixels, robot = _pixel_pairs()
    calibration = Calibration.fit(pixels, robot, frame="ot2")
    assert calibration.residual_mm == pytest.approx(0.0, abs=1e-9)
    assert calibration.z == pytest.approx(0.057)
    assert calibration.mm_per_unit == pytest.approx(0.05)
    mapped = calibration.to_robot_many(pixels)
    assert mapped == pytest.approx(robot, abs=1e-12)
    assert calibration.to_image(*robot[3, :2]) == pytest.approx(tuple(pixels[3]), abs=1e-6)


def test_fit_reports_the_rms_residual_in_millimetres() -> None:
    pixels, robot = _pixel_pairs(noise_m=0.0002)  # 0.2 mm per axis
    calibration = Calibration.fit(pixels, robot[:, :2], z=0.01)
    # RMS of 2-D error of N(0, 0.2 mm) per axis, less the 6 fitted parameters
    assert 0.1 < calibration.residual_mm < 0.35
    assert calibration.z == 0.01


def test_fit_without_z_defaults_to_zero() -> None:
    assert Calibration.fit([[0, 0], [1, 0], [0, 1]], [[0, 0], [1, 0], [0, 1]]).z == 0.0


def test_fit_warns_when_the_residual_exceeds_a_millimetre(caplog) -> None:
    image = [[0, 0], [100, 0], [0, 100], [100, 100]]
    robot = [[0, 0], [0.005, 0], [0, 0.005], [0.015, 0.0]]  # last pair is 11 mm off
    with caplog.at_level(logging.WARNING):
        Calibration.fit(image, robot)
    assert "exceeds 1.0 mm" in caplog.text


@pytest.mark.parametrize(
    ("image", "robot", "message"),
    [
        ([[0, 0], [1, 1]], [[0, 0], [1, 1]], "need at least 3 non-collinear points, got 2"),
        ([[0, 0], [1, 1], [2, 2]], [[0, 0], [1, 0], [0, 1]], "image points all lie on one line"),
        ([[0, 0], [1, 0], [0, 1]], [[0, 0], [1, 1], [2, 2]], "robot points all lie on one line"),
        ([[5, 5], [5, 5], [5, 5]], [[0, 0], [1, 0], [0, 1]], "image points all lie on one line"),
        ([[0, 0], [1, 0], [0, 1]], [[0, 0], [1, 0]], "3 image points but 2 robot points"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 0], [1, 0], [0, 1]], "image points must be"),
        ([[0, 0], [1, 0], [0, math.nan]], [[0, 0], [1, 0], [0, 1]], "NaN or infinity"),
        ([["a", 0], [1, 0], [0, 1]], [[0, 0], [1, 0], [0, 1]], "list of"),
    ],
)
def test_fit_refuses_degenerate_input(image, robot, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        Calibration.fit(image, robot)


# -- the calibration object ------------------------------------------------------


def test_calibration_is_immutable() -> None:
    calibration = Calibration.preset("ot2")
    with pytest.raises(ValueError, match="read-only"):
        calibration.matrix[0, 0] = 5.0
    with pytest.raises(AttributeError):
        calibration.z = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"matrix": np.zeros((3, 3))}, "must be 2x3"),
        ({"matrix": [[1, 0, math.inf], [0, 1, 0]]}, "NaN or infinity"),
        ({"matrix": [[1, 2, 0], [2, 4, 0]]}, "is singular"),
        ({"matrix": [[0, 0, 0.1], [0, 0, 0.2]]}, "is singular"),
        ({"input_units": "inch"}, "input_units 'inch'"),
        ({"z": math.nan}, "z must be a finite number"),
    ],
)
def test_constructor_checks_its_values(kwargs: dict, message: str) -> None:
    fields = {"frame": "ot2", "matrix": [[1, 0, 0], [0, 1, 0]], **kwargs}
    with pytest.raises(CalibrationError, match=message):
        Calibration(**fields)


def test_equality_compares_the_map() -> None:
    a = Calibration("ot2", [[0.001, 0, 0.1], [0, 0.001, 0.2]], 0.05, "plate_mm")
    b = Calibration("ot2", np.array([[0.001, 0, 0.1], [0, 0.001, 0.2]]), 0.05, "plate_mm", 0.3)
    assert a == b
    assert hash(a) == hash(b)
    assert a != Calibration("ot2", [[0.001, 0, 0.1], [0, 0.001, 0.3]], 0.05, "plate_mm")
    assert a != "ot2"


def test_to_image_inverts_plate_calibrations_and_needs_the_dish() -> None:
    ot2 = Calibration.preset("ot2")
    assert ot2.to_image(0.15775, 0.072, dish=DISH) == pytest.approx((300.0, 1200.0))
    with pytest.raises(CalibrationError, match="pass the dish"):
        ot2.to_image(0.15775, 0.072)


def test_describe_says_what_the_map_does() -> None:
    pixels, robot = _pixel_pairs()
    text = Calibration.fit(pixels, robot, frame="ot2").describe()
    assert "frame:       ot2" in text
    assert "residual:" in text
    assert "0.05 mm per px" in text


# -- apply -------------------------------------------------------------------------


def _prediction(dish: DishInfo | None) -> Prediction:
    return Prediction(
        image="plate.png",
        width=2800,
        height=3000,
        model=ModelInfo("m", "1", "x"),
        dish=dish,
        plants=[
            Plant(1, tip=Keypoint(300, 1200, 0.9), start=Keypoint(300, 400, 0.9)),
            Plant(2, tip=None, start=None, reason="root not found"),
            Plant(3, tip=Keypoint(100, 200, 0.8), start=None),
        ],
        confidence={"image": 0.9},
    )


def test_apply_fills_robot_points_for_found_tips_only() -> None:
    original = _prediction(DISH)
    result = Calibration.preset("ot2").apply(original)
    assert _robot(result.plants[0].robot) == pytest.approx([0.15775, 0.072, 0.057])
    assert result.plants[1].robot is None
    assert result.plants[1].reason == "root not found"
    assert _robot(result.plants[2].robot) == pytest.approx([0.10775, 0.062, 0.057])
    assert all(p.robot is None for p in original.plants), "the input is not changed"
    assert result.to_dict()["plants"][0]["robot"]["frame"] == "ot2"
    result.confidence["image"] = 0.0
    assert original.confidence["image"] == 0.9


def test_apply_with_a_plate_calibration_needs_the_dish() -> None:
    with pytest.raises(CalibrationError, match=r"plate\.png: no dish was found"):
        Calibration.preset("ot2").apply(_prediction(None))


def test_apply_without_tips_needs_no_dish() -> None:
    prediction = Prediction("e.png", 10, 10, ModelInfo("m", "1", "x"), None, [Plant(1, None, None)])
    assert Calibration.preset("ot2").apply(prediction).plants[0].robot is None


def test_apply_with_a_pixel_calibration_ignores_the_dish() -> None:
    pixels, robot = _pixel_pairs()
    calibration = Calibration.fit(pixels, robot, frame="cam")
    result = calibration.apply(_prediction(None))
    expected = calibration.to_robot(300, 1200)
    assert _robot(result.plants[0].robot) == pytest.approx(_robot(expected), abs=1e-12)


# -- files -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    pixels, robot = _pixel_pairs(noise_m=0.0001)
    fitted = Calibration.fit(pixels, robot, frame="ot2")
    path = fitted.save(tmp_path / "sub" / f"calib{suffix}")
    loaded = Calibration.load(path)
    assert loaded == fitted
    assert loaded.residual_mm == pytest.approx(fitted.residual_mm, abs=1e-6)
    assert loaded.to_robot(12.5, 99.0) == fitted.to_robot(12.5, 99.0)
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temp file left"


def test_a_preset_saves_and_loads_as_a_matrix(tmp_path: Path) -> None:
    ot2 = Calibration.preset("ot2")
    assert Calibration.load(ot2.save(tmp_path / "ot2.json")) == ot2


def test_points_file_is_fitted_on_load(tmp_path: Path) -> None:
    pixels, robot = _pixel_pairs()
    points = [{"image": list(p), "robot": list(r)} for p, r in zip(pixels, robot, strict=True)]
    path = tmp_path / "points.json"
    path.write_text(json.dumps({"frame": "ot2", "points": points}))
    for calibration in (Calibration.load(path), Calibration.fit_file(path)):
        assert calibration.frame == "ot2"
        assert calibration.residual_mm == pytest.approx(0.0, abs=1e-9)
        assert calibration.z == pytest.approx(0.057)


def test_plate_file_with_z_override(tmp_path: Path) -> None:
    path = tmp_path / "plate.yaml"
    path.write_text("frame: ot2\nz: 0.06\nplate:\n  origin: [0.1, 0.06, 0.05]\n  swap_axes: true\n")
    calibration = Calibration.load(path)
    assert calibration.z == 0.06
    assert calibration.input_units == "plate_mm"
    assert _robot(calibration.to_robot(10, 50, dish=DishInfo((0, 0, 1, 1), 1.0))) == pytest.approx(
        [0.15, 0.07, 0.06]
    )


def test_fit_file_refuses_a_file_without_points(tmp_path: Path) -> None:
    path = Calibration.preset("ot2").save(tmp_path / "ot2.yaml")
    expected = f"{re.escape(str(path))}: no 'points' to fit; need at least 3"
    with pytest.raises(CalibrationError, match=expected):
        Calibration.fit_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "points:\n  - {image: [0, 0], robot: [0, 0, 0]}\n"
            "  - {image: [1, 0], robot: [1, 0, 0]}\n",
            "need at least 3 non-collinear points, got 2",
        ),
        (
            "points:\n  - {image: [0, 0], robot: [0, 0, 0]}\n"
            "  - {image: [1, 1], robot: [1, 0, 0]}\n"
            "  - {image: [2, 2], robot: [0, 1, 0]}\n",
            "need at least 3 non-collinear points: the image points",
        ),
        ("points: {image: [0, 0]}\n", "key 'points' must be a list"),
        (
            "points:\n  - {image: [0, 0]}\n",
            r"key 'points\[0\]' must be a mapping with 'image' and 'robot'",
        ),
        (
            "points:\n  - {image: [0, x], robot: [0, 0]}\n",
            r"key 'points\[0\].image' must be a list of numbers",
        ),
        (
            "points:\n  - {image: 5, robot: [0, 0]}\n",
            r"key 'points\[0\].image' must be a list of numbers",
        ),
        ("matrix: [[1, 0, 0], [0, 1, 0]]\nframes: ot2\n", "unknown key 'frames'"),
        (
            "frame: ot2\n",
            "give exactly one of 'matrix', 'plate' or 'points' \\(found none of them\\)",
        ),
        ("matrix: [[1, 0, 0], [0, 1, 0]]\nplate: {origin: [0, 0, 0]}\n", "found matrix, plate"),
        ("matrix: [[1, 0], [0, 1]]\n", "key 'matrix' must be 2x3"),
        ("matrix: [[1, 0, 0], [0, 1]]\n", "key 'matrix' must be 2x3"),
        ("matrix: [[1, 0, 0], [0, 1, 0]]\nframe: ''\n", "key 'frame' must be a non-empty string"),
        ("matrix: [[1, 0, 0], [0, 1, 0]]\nz: high\n", "key 'z' must be a number"),
        (
            "matrix: [[1, 0, 0], [0, 1, 0]]\nresidual_mm: true\n",
            "key 'residual_mm' must be a number",
        ),
        (
            "matrix: [[1, 0, 0], [0, 1, 0]]\ninput_units: cm\n",
            "key 'input_units' must be one of px, plate_mm",
        ),
        ("matrix: [[1, 2, 0], [2, 4, 0]]\n", "is singular"),
        ("plate: [0, 0, 0]\n", "key 'plate' must be a mapping"),
        ("plate: {origin: [0, 0, 0], rotate: 90}\n", "unknown key 'plate.rotate'"),
        ("plate: {swap_axes: true}\n", "key 'plate.origin' .* is missing"),
        (
            "plate: {origin: [0, 0, 0], swap_axes: 'yes'}\n",
            "key 'plate.swap_axes' must be true or false",
        ),
        (
            "plate: {origin: [0, 0, 0], rotation_deg: ninety}\n",
            "key 'plate.rotation_deg' must be a number",
        ),
        ("plate: {origin: [0, 0, .nan]}\n", "key 'plate.origin' holds a non-finite number"),
        ("plate: {origin: [0, 0, 0]}\ninput_units: px\n", "must be 'plate_mm' for a 'plate'"),
        ("- just\n- a list\n", "expected a mapping"),
        ("matrix: [[1, 0, 0]\n", "not valid YAML"),
    ],
)
def test_malformed_files_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "calib.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=message) as info:
        Calibration.load(path)
    assert str(info.value).startswith(f"{path}: ")


def test_bad_json_and_missing_or_odd_files(tmp_path: Path) -> None:
    bad = tmp_path / "calib.json"
    bad.write_text("{not json")
    with pytest.raises(CalibrationError, match=f"{re.escape(str(bad))}: not valid JSON"):
        Calibration.load(bad)
    with pytest.raises(CalibrationError, match=r"missing\.yaml does not exist"):
        Calibration.load(tmp_path / "missing.yaml")
    with pytest.raises(CalibrationError, match=r"unknown suffix '\.txt'; use \.yaml"):
        Calibration.load(tmp_path / "calib.txt")
    with pytest.raises(CalibrationError, match=r"unknown suffix '\.toml'"):
        Calibration.preset("ot2").save(tmp_path / "calib.toml")
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    with pytest.raises(CalibrationError, match="cannot be read"):
        Calibration.load(folder)


def test_save_reports_a_file_it_cannot_write(tmp_path: Path) -> None:
    target = tmp_path / "calib.yaml"
    target.mkdir()  # a folder where the file should go
    expected = f"cannot write calibration file {re.escape(str(target))}"
    with pytest.raises(CalibrationError, match=expected):
        Calibration.preset("ot2").save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calib.yaml"], "no temp file left"


# -- units and plausibility ----------------------------------------------------


def test_fit_refuses_robot_points_beyond_a_deck_and_names_the_point() -> None:
    image = [[0, 0], [100, 0], [0, 100]]
    with pytest.raises(CalibrationError, match=r"robot point 2 \[1.5, 0\] lies 1.5 m .* 1 m reach"):
        Calibration.fit(image, [[0.1, 0.0], [1.5, 0.0], [0.1, 0.1]])
    fitted = Calibration.fit(image, [[0.1, 0.0], [1.5, 0.0], [0.1, 1.4]], reach_m=2.0)
    assert fitted.residual_mm == pytest.approx(0.0, abs=1e-9)


def test_a_preset_frame_brings_its_own_reach() -> None:
    from visionkit.calibration import ROBOT_REACH_M, preset_reach_m

    assert preset_reach_m("ot2") == pytest.approx(0.6)
    assert preset_reach_m("my-gantry") == ROBOT_REACH_M
    image = [[0, 0], [100, 0], [0, 100]]
    robot = [[0.1, 0.0], [0.8, 0.0], [0.1, 0.1]]
    assert Calibration.fit(image, robot, frame="robot").frame == "robot"
    with pytest.raises(CalibrationError, match="'ot2' frame's origin, beyond its 0.6 m reach"):
        Calibration.fit(image, robot, frame="ot2")


def test_a_plate_file_with_a_millimetre_origin_is_refused(tmp_path) -> None:
    path = tmp_path / "deck.yaml"
    path.write_text("frame: ot2\nplate:\n  origin: [107.75, 62, 57]\n")
    with pytest.raises(CalibrationError, match=r"deck.yaml: .*\[0.10775, 0.062, 0.057\]"):
        Calibration.load(path)


def test_fit_refuses_a_residual_beyond_a_rigid_deck_and_warns_between(caplog) -> None:
    image = [[0, 0], [2000, 0], [0, 2000], [2000, 2000]]
    robot = [[0.1, 0.05], [0.1, 0.15], [0.2, 0.05], [0.2, 0.15]]
    with caplog.at_level("WARNING", logger="visionkit.calibration"):
        bent = Calibration.fit(image, [*robot[:3], [0.2, 0.155]])
    assert bent.residual_mm == pytest.approx(1.25, abs=1e-3)
    assert len(caplog.records) == 1
    with pytest.raises(CalibrationError, match=r"residual is 17.7 mm, above the 5 mm"):
        Calibration.fit(image, [*robot[:3], [0.25, 0.2]])
    assert Calibration.fit(image, [*robot[:3], [0.25, 0.2]], max_residual_mm=20).residual_mm


def test_resolve_takes_objects_files_and_presets(tmp_path) -> None:
    ot2 = Calibration.preset("ot2")
    assert Calibration.resolve(None) is None
    assert Calibration.resolve(ot2) is ot2
    assert Calibration.resolve("ot2") == ot2
    saved = ot2.save(tmp_path / "mine.yaml")
    assert Calibration.resolve(saved) == ot2
    with pytest.raises(CalibrationError, match="does not exist"):
        Calibration.resolve(tmp_path / "typo.yaml")
    with pytest.raises(UnknownNameError, match="ot2"):
        Calibration.resolve("ot3")
