"""Validation lists every problem of a folder at once, naming file and fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.helpers.folders import PlateWriter
from visionkit.data.validate import validate_folder
from visionkit.exceptions import DatasetError
from visionkit.imageio import write_image


def test_a_clean_folder_has_no_problems(plate_folder: Path) -> None:
    report = validate_folder(plate_folder)
    assert report.ok, report.problems
    assert report.n_images == 3
    assert report.mask_counts == {"root": 3, "shoot": 3, "seed": 3, "occluded_root": 1}
    assert report.n_masks == 10
    report.raise_for_problems()  # does nothing


def test_every_kind_of_problem_is_listed_in_one_error(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "good")
    # wrong shape
    plate_writer(tmp_path, "wrongshape", classes=("shoot", "seed"))
    write_image(tmp_path / "wrongshape_root_mask.tif", np.zeros((50, 70), np.uint8))
    # values other than 0/1 or 0/255
    plate_writer(tmp_path, "badvalues", classes=("root", "seed"))
    bad = np.zeros((60, 80), np.uint8)
    bad[0, :3] = [1, 7, 255]
    tifffile.imwrite(tmp_path / "badvalues_shoot_mask.tif", bad)
    # missing masks
    plate_writer(tmp_path, "missing", classes=("root",))
    # orphan mask
    write_image(tmp_path / "ghost_root_mask.tif", np.zeros((60, 80), np.uint8))
    # unreadable image and unreadable mask
    plate_writer(tmp_path, "brokenimage", classes=("root", "shoot", "seed"))
    (tmp_path / "brokenimage.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    plate_writer(tmp_path, "brokenmask", classes=("root", "seed"))
    (tmp_path / "brokenmask_shoot_mask.tif").write_bytes(b"II*\x00 not really")
    # a broken landmarks file
    (tmp_path / "good.landmarks.json").write_text("{not json")

    report = validate_folder(tmp_path)
    text = "\n".join(report.problems)

    assert "wrongshape_root_mask.tif: root mask is 70 x 50 (W x H)" in text
    assert "wrongshape.png is 80 x 60" in text
    assert "badvalues_shoot_mask.tif: unusable shoot mask: mask values must be 0/1 or 0/255" in text
    assert "found 0, 1, 7, 255" in text
    assert "missing.png: missing shoot mask; expected missing_shoot_mask.tif" in text
    assert "missing.png: missing seed mask" in text
    assert "missing occluded_root" not in text  # optional class
    assert "ghost_root_mask.tif: orphan root mask" in text
    assert "brokenimage.png: unreadable image" in text
    assert "brokenmask_shoot_mask.tif: unusable shoot mask: not a readable TIFF" in text
    assert "good.landmarks.json: not a readable JSON file" in text
    assert len(report.problems) == 8
    assert not any(p.startswith("good.png") for p in report.problems)

    with pytest.raises(DatasetError) as caught:
        report.raise_for_problems()
    assert caught.value.problems == report.problems
    assert "8 problem(s)" in str(caught.value)
    assert "ghost_root_mask.tif" in str(caught.value)


def test_missing_and_empty_folders_are_problems(tmp_path: Path) -> None:
    missing = validate_folder(tmp_path / "nope")
    assert missing.problems == [f"{tmp_path / 'nope'}: the folder does not exist; check the path"]
    (tmp_path / "file.png").write_bytes(b"")
    assert "not a folder" in validate_folder(tmp_path / "file.png").problems[0]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert validate_folder(empty).problems == [
        f"{empty}: the folder holds no images (PNG, TIFF or JPEG)"
    ]


def test_a_folder_of_masks_only_says_so(tmp_path: Path) -> None:
    write_image(tmp_path / "a_root_mask.tif", np.zeros((4, 4), np.uint8))
    problems = validate_folder(tmp_path).problems
    assert "masks alone are not a dataset" in problems[0]
    assert "a_root_mask.tif: orphan root mask" in problems[1]


def test_bare_images_pass_when_masks_are_not_required(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "bare", classes=())
    assert not validate_folder(tmp_path, require_masks=False).problems
    assert "missing root mask" in validate_folder(tmp_path).problems[0]


def test_only_the_classes_asked_for_are_checked(tmp_path: Path, plate_writer: PlateWriter) -> None:
    plate_writer(tmp_path, "a", classes=("root", "seed"))
    (tmp_path / "readme.txt").write_text("hi")
    (tmp_path / "orphan.landmarks.json").write_text("[]")
    report = validate_folder(tmp_path, classes=("root",))
    assert report.problems == ["orphan.landmarks.json: landmarks must be a JSON object, found list"]
    assert report.mask_counts == {"root": 1}
    assert any("a_seed_mask.tif: mask of a class not checked" in w for w in report.warnings)
    assert any("readme.txt" in w for w in report.warnings)
    assert any("orphan.landmarks.json: landmarks for 'orphan'" in w for w in report.warnings)


def test_class_shares_count_foreground_over_labelled_pixels(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    masks = plate_writer(tmp_path, "a", classes=("root", "shoot", "seed"))
    plate_writer(tmp_path, "b", classes=(), seed=5)  # unlabelled: not in the denominator
    report = validate_folder(tmp_path, require_masks=False)
    shares = report.class_shares
    assert shares["root"] == pytest.approx(masks["root"].sum() / (60 * 80))
    assert shares["seed"] == pytest.approx(masks["seed"].sum() / (60 * 80))
    assert shares["occluded_root"] == 0.0
    assert report.to_dict()["class_shares"] == shares
    assert report.to_dict()["ok"] is True
