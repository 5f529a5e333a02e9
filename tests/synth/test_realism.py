"""Realism statistics: a synthetic plate must look like the real Hades plate.

The real crop lives outside the repository (``../shared/real``); tests that
need it are skipped where it is absent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from visionkit.cli import main
from visionkit.imageio import read_image, write_image
from visionkit.synth import SynthPlate, generate_plate, write_plate
from visionkit.synth.realism import (
    TOLERANCES,
    PlateStats,
    Tolerance,
    compare_stats,
    comparison_figure,
    measure_plate,
)

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real" / "hades_dish_crop.png"


@pytest.fixture(scope="module")
def real_image() -> np.ndarray:
    if not REAL.exists():
        pytest.skip(f"the real Hades crop is not here ({REAL}); it is never committed")
    image, _ = read_image(REAL)
    return image


@pytest.fixture(scope="module")
def real_stats(real_image: np.ndarray) -> PlateStats:
    return measure_plate(real_image)


@pytest.fixture(scope="module")
def plate() -> SynthPlate:
    """The one full-size Hades frame of the default test run, cut to its dish."""
    full = generate_plate(0)
    assert full.image.shape == (3006, 4202)
    return full.cropped()


@pytest.fixture(scope="module")
def plate_stats(plate: SynthPlate) -> PlateStats:
    return measure_plate(plate.image, plate.masks["root"], px_per_mm=_ppm(plate))


def _ppm(plate: SynthPlate) -> float:
    return 1.0 / float(plate.landmarks["dish"]["mm_per_px"])


def test_real_plate_statistics_are_what_a_user_sees(real_stats: PlateStats) -> None:
    assert real_stats.method == "classical"
    assert real_stats.roots_found == 5
    assert 190 <= real_stats.agar_grey <= 212
    assert 1.5 <= real_stats.noise_std <= 3.5
    assert real_stats.root_contrast_tip < real_stats.root_contrast_top
    assert real_stats.root_width_tip <= real_stats.root_width_top
    assert 19.0 < real_stats.px_per_mm < 22.0


def test_synthetic_plate_passes_every_tolerance(
    real_stats: PlateStats, plate_stats: PlateStats
) -> None:
    rows = compare_stats(real_stats, plate_stats)
    assert [r.name for r in rows] == list(TOLERANCES)
    failed = [(r.name, r.real, r.synthetic) for r in rows if not r.passed]
    assert not failed


def test_classical_estimate_agrees_with_the_masks(
    plate: SynthPlate, plate_stats: PlateStats
) -> None:
    guessed = measure_plate(plate.image)
    present = sum(p["present"] for p in plate.landmarks["plants"])
    assert guessed.method == "classical"
    assert present - 1 <= guessed.roots_found <= present + 1
    assert guessed.root_width_top == pytest.approx(plate_stats.root_width_top, abs=1.5)
    assert guessed.root_contrast_tip == pytest.approx(plate_stats.root_contrast_tip, abs=6.0)
    assert guessed.px_per_mm == pytest.approx(_ppm(plate), rel=0.05)


def test_a_dark_copy_fails_the_agar_check(plate: SynthPlate, plate_stats: PlateStats) -> None:
    dark = measure_plate(
        (plate.image // 2).astype(np.uint8), plate.masks["root"], px_per_mm=_ppm(plate)
    )
    rows = {r.name: r for r in compare_stats(plate_stats, dark)}
    assert not rows["agar_grey"].passed
    assert rows["noise_std"].passed  # a tolerance is per statistic, not all-or-nothing


@pytest.mark.parametrize(
    ("tolerance", "real", "synthetic", "ok"),
    [
        (Tolerance("abs", 5.0, "grey", "x"), 100.0, 104.0, True),
        (Tolerance("abs", 5.0, "grey", "x"), 100.0, 106.0, False),
        (Tolerance("ratio", 2.0, "px", "x"), 4.0, 7.9, True),
        (Tolerance("ratio", 2.0, "px", "x"), 4.0, 1.9, False),
        (Tolerance("ratio", 2.0, "px", "x"), 0.0, 1.0, False),
        (Tolerance("abs", 5.0, "grey", "x"), math.nan, 1.0, False),
    ],
)
def test_tolerances(tolerance: Tolerance, real: float, synthetic: float, ok: bool) -> None:
    assert tolerance.accepts(real, synthetic) is ok


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="2-D uint8"):
        measure_plate(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="does not match"):
        measure_plate(np.zeros((10, 10), np.uint8), np.zeros((5, 5), np.uint8))


def test_stats_serialise_without_nan() -> None:
    stats = measure_plate(np.full((200, 200), 200, np.uint8))
    data = stats.to_dict()
    assert data["root_contrast_top"] is None
    assert data["roots_found"] == 0
    json.dumps(data)


def test_cli_prints_the_table_and_writes_the_figure(
    plate: SynthPlate, real_image: np.ndarray, tmp_path: Path
) -> None:
    files = write_plate(plate, tmp_path)
    figure = tmp_path / "real_vs_synthetic.png"
    result = CliRunner().invoke(
        main,
        ["realism", "--synthetic", str(files[0]), "--real", str(REAL), "--figure", str(figure)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS") == len(TOLERANCES)
    assert "synthetic" in result.output
    assert "(masks)" in result.output
    picture, _ = read_image(figure)
    # Two 30 x 40 mm windows at 12 px/mm, side by side.
    assert picture.shape[0] > 300
    assert picture.shape[1] > 2 * 300


def test_cli_exits_non_zero_when_out_of_tolerance(plate: SynthPlate, tmp_path: Path) -> None:
    files = write_plate(plate, tmp_path)
    dark = tmp_path / "dark.png"
    write_image(dark, (plate.image // 2).astype(np.uint8))
    result = CliRunner().invoke(
        main, ["realism", "--synthetic", str(dark), "--real", str(files[0]), "--json"]
    )
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["passed"] is False
    checks = {c["name"]: c for c in payload["checks"]}
    assert checks["agar_grey"]["passed"] is False
    assert payload["synthetic"]["method"] == "classical"


def test_figure_puts_both_plates_at_one_scale(plate: SynthPlate) -> None:
    picture = comparison_figure(
        plate.image,
        plate.image,
        real_px_per_mm=_ppm(plate),
        synthetic_px_per_mm=_ppm(plate),
        synthetic_root_mask=plate.masks["root"],
        out_px_per_mm=6.0,
    )
    assert picture.dtype == np.uint8
    assert picture.shape[0] == pytest.approx(40 * 6, abs=2)
    assert picture.shape[1] == pytest.approx(2 * 30 * 6 + 8, abs=4)
