"""``visionkit predict``: JSON, masks and overlays per image; bad input never crashes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from tests.helpers.band_plugin import band_net
from tests.helpers.models import BAND_PLUGIN, band_model
from tests.helpers.plates import draw_plate
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
    # a.png is named twice (the folder and the glob): its rows are replaced, not appended
    assert len((out / "predictions.csv").read_text().splitlines()) == 1 + 5 + 2
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


# -- options are checked before the model loads: a missing model folder is never reached


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0"], "Invalid value for '--scale'"),
        (["--scale", "9"], "scale must be in (0, 4]"),
        (["--threads", "0"], "Invalid value for '--threads'"),
        (["--backend", "tensorrt"], "Invalid value for '--backend'"),
        (["--adapter", "json,cvs"], "unknown adapter 'cvs'; valid adapters are: "),
        (["--calibration", "ot3"], "unknown calibration preset 'ot3'"),
    ],
)
def test_a_bad_option_is_a_usage_error_before_the_model_loads(
    tmp_path: Path, args: list[str], message: str
) -> None:
    image = write_image(tmp_path / "p.png", draw_plate().image)
    result = _run(tmp_path / "no-model", str(image), "--out", str(tmp_path / "out"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "no such model folder" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_mistyped_path_says_no_such_file_before_the_model_loads(tmp_path: Path) -> None:
    missing = tmp_path / "plate_01.pgn"
    result = _run(tmp_path / "no-model", str(missing), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"error: {missing}: no such file or folder" in result.output
    assert "no such model folder" not in result.output
    assert "0 image(s) predicted, 1 failed" in result.output


def test_an_unreadable_image_is_reported_once_naming_it_once(
    model_folder: Path, tmp_path: Path
) -> None:
    # a real process: the pipeline's log and the command's own line both reach stderr
    folder = tmp_path / "mixed"
    write_image(folder / "good.png", draw_plate().image)
    fake = folder / "fake.jpg"
    fake.write_bytes(b"not a jpeg")
    done = subprocess.run(
        [
            sys.executable, "-m", "visionkit", "--plugin", str(BAND_PLUGIN), "predict",
            "--backend", "torch", "--model", str(model_folder), str(folder),
            "--out", str(tmp_path / "out"), "--no-overlay",
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if "fake.jpg" in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {fake}: not a readable image")
    assert "good.png: 5 plants, 5 tips" in done.stdout


def test_a_plate_without_plants_says_no_plants_found(model_folder: Path, tmp_path: Path) -> None:
    image = write_image(tmp_path / "empty_dish.png", draw_plate(plants=0).image)
    result = _run(model_folder, str(image), "--out", str(tmp_path / "out"), "--no-overlay")
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("empty_dish.png")]
    assert line.startswith("empty_dish.png: no plants found, image confidence")
    assert "plants," not in line


def test_sub_folders_are_read_with_recursive_and_counted_without(
    model_folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "mixed"
    write_image(folder / "a.png", draw_plate(seed=1).image)
    write_image(folder / "sub" / "b.png", draw_plate(seed=2).image)
    (folder / "notes.txt").write_text("not a plate")
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="visionkit.sources"):
        flat = _run(model_folder, str(folder), "--out", str(out), "--no-overlay")
    assert flat.exit_code == 0, flat.output
    assert "1 image(s) predicted, 0 failed" in flat.output
    assert "skipped 1 non-image file (notes.txt) and 1 sub-folder (sub)" in caplog.text
    assert "--recursive" in caplog.text
    deep = _run(model_folder, str(folder), "--recursive", "--out", str(out), "--no-overlay")
    assert deep.exit_code == 0, deep.output
    assert "2 image(s) predicted, 0 failed" in deep.output
    assert (out / "b.json").is_file()


def test_a_folder_with_images_only_in_sub_folders_names_the_option(tmp_path: Path) -> None:
    folder = tmp_path / "day1"
    write_image(folder / "sub" / "b.png", draw_plate().image)
    result = _run(tmp_path / "no-model", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "folder holds no images" in result.output
    assert "--recursive" in result.output
    assert result.output.count(str(folder)) == 1


def test_adapter_options_are_checked_before_anything_runs(
    model_folder: Path, tmp_path: Path
) -> None:
    image = tmp_path / "plate.png"
    image.write_bytes(b"not read: the options are refused first")
    for given, said in (
        ("json", "give NAME.KEY=VALUE"),
        ("csv.delimiter=;", "csv is not among --adapter json"),
        ("json.=1", "give NAME.KEY=VALUE"),
    ):
        result = _run(model_folder, str(image), "--out", str(tmp_path / "out"),
                      "--adapter-option", given)  # fmt: skip
        assert result.exit_code == 2, result.output
        assert said in result.output
    assert not (tmp_path / "out").exists()


def test_the_masks_are_switched_off_with_an_adapter_option(
    model_folder: Path, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "in" / "plate_001.png", draw_plate().image)
    out = tmp_path / "out"
    result = _run(model_folder, str(image), "--out", str(out), "--no-overlay",
                  "--adapter-option", "json.masks=false")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["plate_001.json"]
    bad = _run(model_folder, str(image), "--out", str(tmp_path / "bad"),
               "--adapter-option", "json.masks=perhaps")  # fmt: skip
    assert bad.exit_code != 0
    assert "masks='perhaps': give true or false" in bad.output


def test_the_overlay_is_screen_sized_unless_asked_for_full_size(
    model_folder: Path, tmp_path: Path
) -> None:
    import cv2

    big = cv2.resize(draw_plate().image, (2560, 1920), interpolation=cv2.INTER_NEAREST)
    image = write_image(tmp_path / "in" / "plate_big.png", big)
    sizes = {}
    for choice in ("screen", "full", "1000"):
        out = tmp_path / choice
        result = _run(model_folder, str(image), "--out", str(out), "--overlay-size", choice)
        assert result.exit_code == 0, result.output
        sizes[choice] = read_image(out / "plate_big_overlay.png")[0].shape[:2]
        assert read_image(out / "plate_big_root_mask.png")[0].shape == (1920, 2560)
    assert sizes == {"screen": (1536, 2048), "full": (1920, 2560), "1000": (750, 1000)}
    bad = _run(model_folder, str(image), "--out", str(tmp_path / "bad"), "--overlay-size", "10")
    assert bad.exit_code == 2
    assert "screen (2048 px), full, or a side of 64 pixels or more" in bad.output
    assert not (tmp_path / "bad").exists()  # refused before anything was written


def test_skip_empty_finds_the_same_tips_as_the_dense_pass(
    model_folder: Path, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "in" / "plate_001.png", draw_plate().image)
    tips = {}
    for flag in ("--skip-empty", "--no-skip-empty"):
        out = tmp_path / flag
        result = _run(model_folder, str(image), "--out", str(out), "--no-overlay", flag)
        assert result.exit_code == 0, result.output
        assert "plate_001.png: 5 plants, 5 tips" in result.output
        data = json.loads((out / "plate_001.json").read_text())
        tips[flag] = [(p["tip"]["x"], p["tip"]["y"]) for p in data["plants"]]
    np.testing.assert_allclose(tips["--skip-empty"], tips["--no-skip-empty"], atol=1.0)
