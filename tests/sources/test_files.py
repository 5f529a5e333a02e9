"""The file, glob and folder sources read real image files the way a user expects."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from visionkit.exceptions import (
    ImageReadError,
    ImageTooLargeError,
    SourceError,
    SourceNotFoundError,
)
from visionkit.frame import Frame
from visionkit.sources import is_mask_file, natural_key, open_file, open_folder, open_glob

REAL_PLATE = Path("/work/shared/real/hades_dish_crop.png")


def _only(source) -> Frame:
    frames = list(source)
    assert len(frames) == 1
    return frames[0]


# --- pixel formats -------------------------------------------------------------


def test_gray_png_arrives_unchanged(tmp_path, make):
    pixels = make.gradient()
    frame = _only(open_file(str(make.png(tmp_path / "plate.png", pixels))))
    assert frame.image.dtype == np.uint8
    np.testing.assert_array_equal(frame.image, pixels)
    assert frame.metadata["bit_depth"] == 8
    assert frame.metadata["name"] == "plate.png"
    assert frame.source_id == str(tmp_path / "plate.png")


def test_rgba_with_equal_channels_becomes_gray(tmp_path, make):
    gray = make.gradient()
    rgba = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    frame = _only(open_file(str(make.png(tmp_path / "rgba.png", rgba))))
    assert frame.image.shape == gray.shape
    np.testing.assert_array_equal(frame.image, gray)
    assert frame.metadata["channels"] == "equal-rgb"


def test_colour_png_stays_rgb(tmp_path, make):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red
    frame = _only(open_file(str(make.png(tmp_path / "red.png", rgb))))
    assert frame.image.shape == (8, 8, 3)
    assert frame.image[0, 0].tolist() == [200, 0, 0]


def test_twelve_bit_tiff_is_scaled_to_eight_bit(tmp_path):
    raw = np.array([[0, 2048, 4095]], dtype=np.uint16)
    tifffile.imwrite(tmp_path / "raw.tif", raw)
    frame = _only(open_file(str(tmp_path / "raw.tif")))
    assert frame.image.tolist() == [[0, 128, 255]]
    assert frame.metadata["bit_depth"] == 12


def test_sixteen_bit_png_is_scaled_by_full_range(tmp_path):
    raw = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(raw).save(tmp_path / "deep.png")
    frame = _only(open_file(str(tmp_path / "deep.png")))
    assert frame.image.tolist() == [[0, 128, 255]]
    assert frame.metadata["bit_depth"] == 16


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_jpeg_and_bmp_are_read(tmp_path, make, suffix):
    pixels = np.full((16, 16), 120, np.uint8)
    Image.fromarray(pixels).save(tmp_path / f"plate{suffix}")
    frame = _only(open_file(str(tmp_path / f"plate{suffix}")))
    assert frame.image.shape == (16, 16)
    assert abs(int(frame.image.mean()) - 120) <= 2


def test_real_hades_crop_opens_as_one_gray_frame():
    if not REAL_PLATE.exists():
        pytest.skip(f"{REAL_PLATE} is not on this machine")
    frame = _only(open_file(str(REAL_PLATE)))
    assert frame.image.shape == (2599, 2597)
    assert frame.image.dtype == np.uint8
    assert frame.name == "hades_dish_crop.png"


def test_frame_timestamp_is_the_file_modification_time(tmp_path, make):
    path = make.png(tmp_path / "plate.png")
    when = dt.datetime(2023, 8, 8, 12, 30, tzinfo=dt.UTC)
    os.utime(path, (when.timestamp(), when.timestamp()))
    assert _only(open_file(str(path))).timestamp == when


# --- bad single files -------------------------------------------------------------


def test_truncated_png_raises_image_read_error_naming_the_file(tmp_path):
    whole = tmp_path / "whole.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(whole)
    data = whole.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    source = open_file(str(cut))  # listing is cheap; the pixels are read when due
    with pytest.raises(ImageReadError, match=r"cut\.png"):
        list(source)


def test_missing_file_by_name_raises_source_not_found(tmp_path):
    with pytest.raises(SourceNotFoundError, match=r"nope\.png"):
        open_file(str(tmp_path / "nope.png"))


def test_file_source_refuses_a_folder_and_a_text_file(tmp_path):
    with pytest.raises(SourceError, match="folder"):
        open_file(str(tmp_path))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImageReadError, match=r"notes\.txt.*\.txt is not an image"):
        open_file(str(tmp_path / "notes.txt"))


def test_max_pixels_option_refuses_large_images(tmp_path, make):
    path = make.png(tmp_path / "plate.png")  # 12 x 16 = 192 pixels
    with pytest.raises(ImageTooLargeError, match="exceeds the limit of 100"):
        list(open_file(str(path), max_pixels=100))
    assert len(list(open_file(str(path), max_pixels="192"))) == 1


# --- folders ------------------------------------------------------------------------


def test_folder_reads_images_in_natural_order(tmp_path, make):
    for index in (10, 2, 1):
        make.png(tmp_path / f"plate_{index}.png", np.full((4, 4), index, np.uint8))
    source = open_folder(str(tmp_path))
    assert len(source) == 3
    frames = list(source)
    assert [f.name for f in frames] == ["plate_1.png", "plate_2.png", "plate_10.png"]
    assert [int(f.image[0, 0]) for f in frames] == [1, 2, 10]
    assert [f.metadata["index"] for f in frames] == [0, 1, 2]


def test_folder_warns_once_for_a_text_file_and_skips_it(tmp_path, make, caplog):
    make.png(tmp_path / "plate.png")
    (tmp_path / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING):
        source = open_folder(str(tmp_path))
        frames = list(source) + list(source)  # iterating again warns no more
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "notes.txt" in warnings[0].getMessage()
    assert [f.name for f in frames] == ["plate.png", "plate.png"]


def test_folder_skips_masks_and_hidden_files_silently(tmp_path, make, caplog):
    make.png(tmp_path / "plate.png")
    tifffile.imwrite(tmp_path / "plate_root_mask.tif", np.zeros((4, 4), np.uint8))
    make.png(tmp_path / "plate_shoot_mask.png")
    make.png(tmp_path / ".plate.png")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0")
    (tmp_path / "plate.landmarks.json").write_text("{}")
    (tmp_path / "manifest.json").write_text("{}")
    with caplog.at_level(logging.WARNING):
        frames = list(open_folder(str(tmp_path)))
    assert [f.name for f in frames] == ["plate.png"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_folder_reads_sub_folders_only_when_recursive(tmp_path, make):
    make.png(tmp_path / "a.png")
    make.png(tmp_path / "day2" / "b.png")
    make.png(tmp_path / ".cache" / "c.png")
    assert [f.name for f in open_folder(str(tmp_path))] == ["a.png"]
    deep = list(open_folder(str(tmp_path), recursive=True))
    assert [f.name for f in deep] == ["a.png", "b.png"]
    assert [f.name for f in open_folder(str(tmp_path), recursive="yes")] == ["a.png", "b.png"]


def test_empty_folder_raises_naming_it_and_suggests_recursive(tmp_path, make):
    make.png(tmp_path / "sub" / "deep.png")
    make.png(tmp_path / "only_root_mask.png")
    with pytest.raises(SourceNotFoundError, match=r"holds no images.*recursive=True") as info:
        open_folder(str(tmp_path))
    assert str(tmp_path) in str(info.value)
    assert "1 sub-folder (sub)" in str(info.value)
    assert "--recursive" in str(info.value)  # the command line's way to say it


def test_missing_folder_and_file_given_as_folder(tmp_path, make):
    with pytest.raises(SourceNotFoundError, match="no such folder"):
        open_folder(str(tmp_path / "absent"))
    with pytest.raises(SourceError, match="is a file"):
        open_folder(str(make.png(tmp_path / "plate.png")))


def test_corrupt_image_in_folder_raises_when_its_turn_comes(tmp_path, make):
    make.png(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    make.png(tmp_path / "c.png")
    frames = iter(open_folder(str(tmp_path)))
    assert next(frames).name == "a.png"  # the good frame before it still arrives
    with pytest.raises(ImageReadError, match=r"b\.png"):
        next(frames)


def test_skip_bad_warns_and_goes_on(tmp_path, make, caplog):
    make.png(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"junk")
    make.png(tmp_path / "c.png")
    with caplog.at_level(logging.WARNING):
        frames = list(open_folder(str(tmp_path), skip_bad=True))
    assert [f.name for f in frames] == ["a.png", "c.png"]
    assert any("b.png" in r.getMessage() for r in caplog.records)


def test_frames_are_read_one_at_a_time(tmp_path, make):
    first = make.png(tmp_path / "a.png")
    second = make.png(tmp_path / "b.png")
    frames = iter(open_folder(str(tmp_path)))
    assert next(frames).name == "a.png"
    second.unlink()  # not read yet, so its removal shows on its turn only
    first.unlink()
    with pytest.raises(ImageReadError, match=r"b\.png"):
        next(frames)


# --- globs --------------------------------------------------------------------------


def test_glob_matches_sorted_and_spans_folders(tmp_path, make):
    make.png(tmp_path / "run" / "p10.png")
    make.png(tmp_path / "run" / "p9.png")
    make.png(tmp_path / "run" / "deep" / "p1.png")
    make.png(tmp_path / "run" / "p1_root_mask.png")
    flat = open_glob(str(tmp_path / "run" / "*.png"))
    assert [f.name for f in flat] == ["p9.png", "p10.png"]
    deep = open_glob(str(tmp_path / "run" / "**" / "*.png"))
    assert len(deep) == 3


def test_glob_matching_nothing_names_the_pattern(tmp_path):
    pattern = str(tmp_path / "*.png")
    with pytest.raises(SourceNotFoundError, match=r"matches no image files") as info:
        open_glob(pattern)
    assert pattern in str(info.value)


def test_glob_warns_for_non_images_it_matches(tmp_path, make, caplog):
    make.png(tmp_path / "a.png")
    (tmp_path / "a.csv").write_text("x")
    with caplog.at_level(logging.WARNING):
        source = open_glob(str(tmp_path / "a.*"))
    assert len(source) == 1
    assert len([r for r in caplog.records if "a.csv" in r.getMessage()]) == 1


# --- options ------------------------------------------------------------------------


def test_unknown_option_lists_the_valid_ones(tmp_path, make):
    make.png(tmp_path / "a.png")
    with pytest.raises(SourceError, match=r"no option 'recursiv'.*max_pixels, recursive, skip_bad"):
        open_folder(str(tmp_path), recursiv=True)


@pytest.mark.parametrize(("option", "value"), [("recursive", "maybe"), ("max_pixels", 0)])
def test_bad_option_values_name_the_option(tmp_path, make, option, value):
    make.png(tmp_path / "a.png")
    with pytest.raises(SourceError, match=f"{option}={value!r}"):
        open_folder(str(tmp_path), **{option: value})


def test_source_is_a_context_manager_and_iterates_again(tmp_path, make):
    make.png(tmp_path / "a.png")
    with open_folder(str(tmp_path)) as source:
        assert [f.name for f in source] == [f.name for f in source] == ["a.png"]
    assert "1 files" in repr(source)


# --- the shared listing rules ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "is_mask"),
    [
        ("plate_root_mask.tif", True),
        ("plate_occluded_root_mask.TIF", True),
        ("plate_mask.png", True),
        ("plate.png", False),
        ("mask.png", False),
        ("plate_mask.txt", False),
    ],
)
def test_mask_rule(name, is_mask):
    assert is_mask_file(name) is is_mask


def test_natural_key_orders_numbers_by_value():
    names = ["img10.png", "IMG2.png", "img1.png", "a.png"]
    assert sorted(names, key=natural_key) == ["a.png", "img1.png", "IMG2.png", "img10.png"]


# --- the files open hook ------------------------------------------------------------


def test_files_hook_opens_paths_and_passes_on_the_rest(tmp_path, make):
    from visionkit.sources.files import visionkit_open_source

    plate = make.png(tmp_path / "plate.png")
    (tmp_path / "notes.txt").write_text("x")
    assert visionkit_open_source(str(plate), {}).paths == (plate,)
    assert visionkit_open_source(str(tmp_path), {"recursive": 1}).name == "folder"
    assert visionkit_open_source(str(tmp_path / "*.png"), {}).name == "glob"
    assert visionkit_open_source(str(tmp_path / "notes.txt"), {}) is None
    assert visionkit_open_source("https://example.org/plate.png", {}) is None
    assert visionkit_open_source(str(tmp_path / "absent.png"), {}) is None


def test_files_hook_honours_an_explicit_source_name(tmp_path, make):
    from visionkit.sources.files import visionkit_open_source

    plate = make.png(tmp_path / "plate.png")
    assert visionkit_open_source(str(plate), {"source": "glob"}).name == "glob"
    assert visionkit_open_source(str(plate), {"source": "hades"}) is None


def test_folder_says_how_many_files_it_skipped_and_why(tmp_path, make, caplog):
    make.png(tmp_path / "plate.png")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "data.csv").write_text("x")
    make.png(tmp_path / "day2" / "b.png")
    make.png(tmp_path / ".cache" / "c.png")
    with caplog.at_level(logging.WARNING):
        assert [f.name for f in open_folder(str(tmp_path))] == ["plate.png"]
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "skipped 2 non-image files (data.csv, notes.txt) and 1 sub-folder (day2)" in message
    assert "sub-folders are read with recursive=True" in message
    assert "--recursive" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert len(open_folder(str(tmp_path), recursive=True)) == 2
    assert "sub-folder" not in caplog.text


def test_empty_folder_without_sub_folders_does_not_suggest_recursive(tmp_path, make):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(SourceNotFoundError, match="holds no images") as info:
        open_folder(str(tmp_path))
    assert "recursive" not in str(info.value)
