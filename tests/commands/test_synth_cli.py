"""``visionkit synth`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from visionkit.cli import main
from visionkit.imageio import read_image
from visionkit.sources.hades import parse_hades_name


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["synth", *args])
    return result.exit_code, result.output


def test_synth_writes_hades_named_plates_with_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "plates"
    code, output = _run(
        "--out", str(out), "--n", "2", "--seed", "1", "--scale", "0.25", "--no-progress"
    )
    assert code == 0, output
    assert "wrote 2 plates (12 files)" in output
    images = sorted(out.glob("*.png"))
    assert len(images) == 2
    for image in images:
        parsed = parse_hades_name(image.name)
        assert parsed is not None
        assert not parsed.is_mask
        stem = image.name.removesuffix(".png")
        for mask in ("root", "shoot", "seed", "occluded_root"):
            assert (out / f"{stem}_{mask}_mask.tif").is_file()
        landmarks = json.loads((out / f"{stem}.landmarks.json").read_text(encoding="utf-8"))
        pixels, _ = read_image(image)
        assert pixels.shape == (landmarks["height"], landmarks["width"]) == (752, 1050)


def test_crop_and_half_scale(tmp_path: Path) -> None:
    code, output = _run("--out", str(tmp_path), "--n", "1", "--seed", "2", "--half-scale", "--crop")
    assert code == 0, output
    (image,) = tmp_path.glob("*.png")
    pixels, _ = read_image(image)
    # A dish crop at half scale: about 129 mm at ~10 px/mm, square.
    assert 1200 < pixels.shape[0] < 1450
    assert abs(pixels.shape[0] - pixels.shape[1]) < 80


def test_bad_options_are_refused(tmp_path: Path) -> None:
    code, output = _run("--out", str(tmp_path), "--n", "-1", "--seed", "1")
    assert code == 2
    assert "--n" in output


@pytest.mark.slow
def test_full_size_frames(tmp_path: Path) -> None:
    code, output = _run("--out", str(tmp_path / "plates"), "--n", "2", "--seed", "1")
    assert code == 0, output
    for image in (tmp_path / "plates").glob("*.png"):
        pixels, meta = read_image(image)
        assert pixels.shape == (3006, 4202)
        assert meta["bit_depth"] == 8
