"""``visionkit calibration fit|show|apply|presets`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from visionkit import Calibration
from visionkit.cli import main

POINTS = """\
frame: ot2
points:
  - {image: [0, 0], robot: [0.1, 0.05, 0.057]}
  - {image: [2000, 0], robot: [0.1, 0.15, 0.057]}
  - {image: [0, 2000], robot: [0.2, 0.05, 0.057]}
  - {image: [2000, 2000], robot: [0.2, 0.15, 0.057]}
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["calibration", *args])
    return result.exit_code, result.output


def _run_apart(*args: str) -> Result:
    """Run with stdout and stderr kept apart (``result.stdout``, ``result.stderr``)."""
    return CliRunner().invoke(main, ["calibration", *args])


def test_fit_writes_a_calibration_and_prints_the_residual(tmp_path: Path) -> None:
    points = tmp_path / "points.yaml"
    points.write_text(POINTS)
    out = tmp_path / "calib.yaml"
    code, output = _run("fit", str(points), "--out", str(out))
    assert code == 0, output
    assert f"wrote {out}" in output
    assert "residual: 0.0000 mm RMS" in output
    calibration = Calibration.load(out)
    assert calibration.frame == "ot2"
    point = calibration.to_robot(1000, 500)
    assert [point.x, point.y, point.z] == pytest.approx([0.125, 0.1, 0.057])


def test_fit_without_out_prints_only_json_on_stdout_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    points = tmp_path / "points.yaml"
    points.write_text(POINTS.replace("[0.2, 0.15, 0.057]", "[0.2, 0.155, 0.057]"))
    with caplog.at_level("WARNING"):
        result = _run_apart("fit", str(points))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # `> fit.json` gives valid JSON
    assert printed["frame"] == "ot2"
    assert printed["residual_mm"] == pytest.approx(1.25, abs=0.001)  # 5 mm off, spread over 4
    assert "residual: 1.2500 mm RMS" in result.stderr
    warnings = [r for r in caplog.records if "residual" in r.getMessage()]
    assert len(warnings) == 1
    assert "exceeds 1.0 mm" in warnings[0].getMessage()
    assert "residual above" not in result.output, "the command adds no second warning"


def test_fit_refuses_millimetres_typed_as_metres(tmp_path: Path) -> None:
    points = tmp_path / "points.yaml"
    points.write_text(
        "frame: ot2\n"
        "points:\n"
        "  - {image: [0, 0], robot: [110.2, 65.5, 57]}\n"
        "  - {image: [2000, 0], robot: [110.2, 165.5, 57]}\n"
        "  - {image: [0, 2000], robot: [210.2, 65.5, 57]}\n"
    )
    out = tmp_path / "calib.yaml"
    result = _run_apart("fit", str(points), "--out", str(out))
    assert result.exit_code != 0
    assert "beyond its 0.6 m reach" in result.output
    assert "[0.1102, 0.0655, 0.057] if you typed millimetres" in result.output
    assert not out.exists()


def test_fit_refuses_points_that_disagree_naming_the_residual(tmp_path: Path) -> None:
    points = tmp_path / "points.yaml"
    points.write_text(POINTS.replace("[0.2, 0.15, 0.057]", "[0.25, 0.2, 0.057]"))
    result = _run_apart("fit", str(points))
    assert result.exit_code != 0
    assert "RMS residual is 17.7 mm, above the 5 mm" in result.output
    assert result.stdout == ""


def test_fit_refuses_collinear_points_naming_the_file(tmp_path: Path) -> None:
    points = tmp_path / "points.yaml"
    points.write_text(
        "points:\n"
        "  - {image: [0, 0], robot: [0, 0, 0]}\n"
        "  - {image: [1, 1], robot: [1, 0, 0]}\n"
        "  - {image: [2, 2], robot: [0, 1, 0]}\n"
    )
    code, output = _run("fit", str(points))
    assert code == 1
    assert f"Error: {points}: need at least 3 non-collinear points" in output


def test_show_prints_a_preset_and_a_file(tmp_path: Path) -> None:
    code, output = _run("show", "ot2")
    assert code == 0, output
    assert "frame:       ot2" in output
    assert "robot_x = +0*u +0.001*v +0.10775" in output
    assert "robot_z = 0.057" in output

    saved = Calibration.preset("ot2").save(tmp_path / "mine.json")
    code, output = _run("show", str(saved), "--json")
    assert code == 0, output
    assert Calibration.from_dict(json.loads(output)) == Calibration.preset("ot2")


def test_show_unknown_preset_lists_the_presets() -> None:
    code, output = _run("show", "ot3")
    assert code == 1
    assert "unknown calibration preset 'ot3'; valid calibration presets are: ot2" in output


def test_show_missing_file_is_named(tmp_path: Path) -> None:
    code, output = _run("show", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "nope.yaml does not exist" in output


def test_presets_lists_ot2() -> None:
    code, output = _run("presets")
    assert code == 0
    assert "ot2" in output.split()


def test_apply_maps_a_pixel_through_the_dish() -> None:
    code, output = _run(
        "apply", "ot2", "300", "1200", "--dish-bbox", "100,200,2700,2800", "--mm-per-px", "0.05"
    )
    assert code == 0, output
    assert output.strip() == "ot2: x=0.157750 y=0.072000 z=0.057000 m"


def test_apply_json_and_negative_coordinates() -> None:
    code, output = _run(
        "apply", "ot2", "-100", "200", "--dish-bbox", "0,0,10,10", "--mm-per-px", "0.1", "--json"
    )
    assert code == 0, output
    assert json.loads(output) == {"frame": "ot2", "x": 0.12775, "y": 0.052, "z": 0.057}


def test_apply_with_a_pixel_calibration_needs_no_dish(tmp_path: Path) -> None:
    points = tmp_path / "points.yaml"
    points.write_text(POINTS)
    calib = tmp_path / "calib.json"
    assert _run("fit", str(points), "--out", str(calib))[0] == 0
    code, output = _run("apply", str(calib), "1000", "500")
    assert code == 0, output
    assert output.strip() == "ot2: x=0.125000 y=0.100000 z=0.057000 m"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --dish-bbox X0,Y0,X1,Y1 and --mm-per-px"),
        (["--dish-bbox", "0,0,10,10"], "give --dish-bbox and --mm-per-px together"),
        (["--mm-per-px", "0.05"], "give --dish-bbox and --mm-per-px together"),
        (["--dish-bbox", "0,0,10", "--mm-per-px", "0.05"], "give four numbers"),
        (["--dish-bbox", "a,b,c,d", "--mm-per-px", "0.05"], "give four numbers"),
        (["--dish-bbox", "10,0,0,10", "--mm-per-px", "0.05"], "need x0 < x1 and y0 < y1"),
        (["--dish-bbox", "0,0,10,10", "--mm-per-px", "0"], "--mm-per-px"),
    ],
)
def test_apply_bad_input(args: list[str], message: str) -> None:
    code, output = _run("apply", "ot2", "300", "1200", *args)
    assert code != 0
    assert message in output
