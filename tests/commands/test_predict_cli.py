"""``visionkit predict``: JSON, masks and overlays per image; bad input never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from tests.inference.band_plugin import band_net
from tests.inference.conftest import BAND_PLUGIN, band_model, draw_plate
from visionkit.cli import main
from visionkit.imageio import read_image, write_image
from visionkit.modelfolder import ModelConfig, save_model


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("band-model")
    save_model(band_net(), folder, band_model().config)
    return folder


def _run(model: Path | None, *args: str) -> Result:
    base = ["--plugin", str(BAND_PLUGIN), "predict", "--backend", "torch"]
    if model is not None:
        base += ["--model", str(model)]
    return CliRunner().invoke(main, [*base, *args])


def test_predict_writes_json_masks_and_an_overlay(model_folder: Path, tmp_path: Path) -> None:
    image = write_image(tmp_path / "in" / "plate_001.png", draw_plate().image)
    out = tmp_path / "out"
    result = _run(model_folder, str(image), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "plate_001.png: 5 plants, 5 tips" in result.output
    data = json.loads((out / "plate_001.json").read_text())
    assert data["width"] == 640
    assert data["height"] == 480
    assert [p["plant"] for p in data["plants"]] == [1, 2, 3, 4, 5]
    assert all(p["tip"] is not None for p in data["plants"])
    for cls in ("root", "shoot", "seed"):
        mask = read_image(out / data["masks"][cls])[0]
        assert mask.shape == (480, 640)
        assert set(np.unique(mask)) <= {0, 255}
    assert read_image(out / "plate_001_root_mask.png")[0].any()
    overlay = read_image(out / "plate_001_overlay.png")[0]
    assert overlay.shape == (480, 640, 3)


def test_folders_globs_adapters_and_calibration(model_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plates"
    write_image(folder / "a.png", draw_plate(seed=1).image)
    write_image(folder / "b.png", draw_plate(seed=2, plants=2).image)
    out = tmp_path / "out"
    result = _run(
        model_folder,
        str(folder),
        str(folder / "a*.png"),
        "--out",
        str(out),
        "--adapter",
        "json,csv",
        "--calibration",
        "ot2",
        "--no-overlay",
        "--expected-plants",
        "5",
    )
    assert result.exit_code == 0, result.output
    assert "b.png: 2 plants, 2 tips" in result.output
    assert "found 2 plants, expected 5" in result.output
    assert json.loads((out / "a.json").read_text())["plants"][0]["robot"]["frame"] == "ot2"
    assert len((out / "predictions.csv").read_text().splitlines()) == 1 + 5 + 2 + 5
    assert not list(out.glob("*_overlay.png"))


def test_a_non_image_is_named_and_the_others_still_run(model_folder: Path, tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.png", draw_plate().image)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not a png at all")
    out = tmp_path / "out"
    result = _run(model_folder, str(notes), str(fake), str(good), "--out", str(out))
    assert result.exit_code == 1
    assert "notes.txt" in result.output
    assert "fake.png" in result.output
    assert "good.png: 5 plants" in result.output
    assert (out / "good.json").is_file()
    assert not (out / "fake.json").exists()
    assert "1 image(s) predicted, 2 failed" in result.output


def test_black_empty_and_dishless_images_get_warnings_not_tips(
    model_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "odd"
    write_image(folder / "black.png", np.zeros((300, 400), np.uint8))
    write_image(folder / "blank.png", np.full((300, 400), 200, np.uint8))
    write_image(folder / "empty_dish.png", draw_plate(plants=0).image)
    out = tmp_path / "out"
    result = _run(model_folder, str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    for stem in ("black", "blank", "empty_dish"):
        data = json.loads((out / f"{stem}.json").read_text())
        assert len(data["plants"]) == 5
        assert all(p["tip"] is None and p["reason"] for p in data["plants"])
        assert data["warnings"]
    assert json.loads((out / "black.json").read_text())["confidence"]["image"] < 0.5


def test_a_huge_image_is_refused_with_the_limit(
    model_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("visionkit.imageio.MAX_PIXELS", 10_000)
    image = write_image(tmp_path / "huge.png", draw_plate().image)
    result = _run(model_folder, str(image), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "huge.png" in result.output
    assert "exceeds the limit" in result.output


def test_a_model_for_other_classes_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "two-class"
    config = ModelConfig(architecture="band", classes=("background", "root"), name="two")
    save_model(band_net(classes=2), folder, config)
    image = write_image(tmp_path / "p.png", draw_plate().image)
    result = _run(folder, str(image), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "needs root, shoot, seed" in result.output


def test_no_model_explains_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("visionkit.pipeline.DEFAULT_MODEL_DIR", tmp_path / "none")
    image = write_image(tmp_path / "p.png", draw_plate().image)
    result = _run(None, str(image), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "--model" in result.output


def test_predict_is_listed_without_importing_torch() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "predict" in result.output
    assert "Segment plates and find root tips." in result.output
