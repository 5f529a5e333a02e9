"""``visionkit calibrate``: fiducials from a CSV or a prompt, each point's error, the saved file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from visionkit import Calibration
from visionkit.calibration_fit import POINT_WARN_MM, fit_points, read_points_csv
from visionkit.cli import main
from visionkit.exceptions import CalibrationError

#: An OT-2-like frame: 0.05 mm per pixel, the plate's corner at (0.1 m, 0.05 m), tips at 57 mm.
CSV = """image_x,image_y,robot_x,robot_y,robot_z
100,100,0.105,0.055,0.057
2400,150,0.220,0.0575,0.057
200,2300,0.110,0.165,0.057
2500,2450,0.225,0.1725,0.057
"""


def _invoke(*args: str, typed: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["calibrate", *args], input=typed)
    return result.exit_code, result.output


def test_a_csv_of_fiducials_gives_each_error_the_mean_and_a_file_predict_reads(
    tmp_path: Path,
) -> None:
    points = tmp_path / "fiducials.csv"
    points.write_text(CSV)
    out = tmp_path / "bay2.json"
    code, output = _invoke(str(points), "--out", str(out), "--frame", "ot2")
    assert code == 0, output
    assert output.count(" 0.000") >= 4  # four points, each fitted exactly
    assert "mean error: 0.000 mm over 4 points" in output
    assert "warning" not in output
    loaded = Calibration.resolve(str(out))
    assert loaded is not None
    point = loaded.to_robot(1300, 1300)
    assert (point.x, point.y, point.z) == pytest.approx((0.165, 0.115, 0.057), abs=1e-6)


def test_points_typed_at_the_prompt_and_a_bad_one_are_flagged(tmp_path: Path) -> None:
    out = tmp_path / "typed.yaml"
    typed = "\n".join([
        "100 100 0.105 0.055",
        "not numbers",
        "2400 150 0.220 0.0575",
        "",  # too few yet: asked again
        "200 2300 0.110 0.165",
        "2500 2450 0.2290 0.1725",  # 4 mm off in x: the fit spreads it, every point is off
        "",
    ]) + "\n"  # fmt: skip
    code, output = _invoke("--out", str(out), typed=typed)
    assert code == 0, output
    assert "give 4 or 5 numbers" in output
    assert "need at least 3 points, have 2" in output
    assert f"mm off (more than {POINT_WARN_MM} mm)" in output
    assert out.is_file()


def test_nearly_collinear_points_warn_and_collinear_ones_are_refused(tmp_path: Path) -> None:
    image = np.array([[0, 0], [1000, 10], [2000, 0], [3000, 12]], dtype=float)
    robot = np.column_stack([0.1 + image[:, 0] * 5e-5, 0.05 + image[:, 1] * 5e-5])
    report = fit_points(image, robot)
    assert any("nearly on one line" in w for w in report.warnings)
    points = tmp_path / "line.csv"
    points.write_text("image_x,image_y,robot_x,robot_y\n0,0,0.1,0.1\n10,0,0.2,0.1\n20,0,0.3,0.1\n")
    code, output = _invoke(str(points), "--out", str(tmp_path / "x.json"))
    assert code == 1
    assert "one line" in output


def test_a_csv_without_the_columns_or_with_words_is_refused_by_name() -> None:
    with pytest.raises(CalibrationError, match="missing: robot_x, robot_y"):
        read_points_csv("image_x,image_y\n1,2\n")
    with pytest.raises(CalibrationError, match="line 3: every value must be a number"):
        read_points_csv("image_x,image_y,robot_x,robot_y\n1,2,3,4\n1,x,3,4\n")
