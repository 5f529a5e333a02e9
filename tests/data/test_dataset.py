"""HadesDataset pairs images with their masks and reads one plate at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers.folders import PlateWriter, draw_masks
from visionkit.data.dataset import HadesDataset, resize_mask
from visionkit.exceptions import DatasetError, ImageReadError
from visionkit.imageio import write_image


def test_plates_are_listed_sorted_and_paired_with_their_masks(plate_folder: Path) -> None:
    dataset = HadesDataset(plate_folder)
    assert len(dataset) == 3
    assert dataset.stems == ["plate_a", "plate_b", "plate_c"]
    assert "plates=3" in repr(dataset)

    sample = dataset[1]
    expected = draw_masks((60, 80), seed=2)
    assert sample.stem == "plate_b"
    assert sample.path == plate_folder / "plate_b.png"
    assert sample.image.dtype == np.uint8
    assert sample.image.shape == (60, 80)
    assert set(sample.masks) == {"root", "shoot", "seed", "occluded_root"}
    for cls, mask in sample.masks.items():  # PNG masks stored as 0/255 come back 0/1
        assert np.array_equal(mask, expected[cls]), cls
    assert sample.landmarks is None


def test_a_missing_optional_class_is_an_empty_mask(plate_folder: Path) -> None:
    sample = HadesDataset(plate_folder)[0]
    assert not sample.masks["occluded_root"].any()
    assert sample.masks["root"].any()


def test_labels_merge_the_masks_in_the_dataset_class_order(plate_folder: Path) -> None:
    sample = HadesDataset(plate_folder, classes=("shoot", "root"))[0]
    assert set(sample.masks) == {"shoot", "root"}
    labels = sample.labels
    assert labels.dtype == np.uint8
    assert set(np.unique(labels).tolist()) == {0, 1, 2}
    assert np.array_equal(labels == 1, sample.masks["shoot"] > 0)  # shoot wins the overlap
    assert np.array_equal(labels == 2, (sample.masks["root"] > 0) & (sample.masks["shoot"] == 0))
    assert sample.labels is labels  # computed once


def test_landmarks_are_read_when_present(plate_folder: Path) -> None:
    dataset = HadesDataset(plate_folder)
    assert dataset[dataset.index("plate_c")].landmarks == {"dish": {"bbox": [5, 5, 75, 55]}}
    with pytest.raises(KeyError, match="no plate with stem 'nope'"):
        dataset.index("nope")


def test_indexing_counts_from_the_end_and_refuses_out_of_range(plate_folder: Path) -> None:
    dataset = HadesDataset(plate_folder)
    assert dataset[-1].stem == "plate_c"
    assert [s.stem for s in dataset] == dataset.stems
    with pytest.raises(IndexError, match="plate index 3 out of range for 3"):
        dataset[3]
    assert dataset.image_path(0).name == "plate_a.png"


def test_scale_resizes_image_and_masks_together(plate_folder: Path) -> None:
    full = HadesDataset(plate_folder)[0]
    half = HadesDataset(plate_folder, scale=0.5)[0]
    assert half.scale == 0.5
    assert half.image.shape == (30, 40)
    assert all(m.shape == (30, 40) for m in half.masks.values())
    # the 2-px-wide root survives halving, at the same place
    rows, cols = np.nonzero(half.masks["root"])
    full_cols = np.nonzero(full.masks["root"])[1]
    assert rows.size > 0
    assert abs(cols.mean() * 2 + 0.5 - full_cols.mean()) <= 1.0
    # the image is darker where the root is
    assert half.image[half.masks["root"] > 0].mean() < half.image.mean() - 20

    double = HadesDataset(plate_folder, scale=2.0)[0]
    assert double.image.shape == (120, 160)
    assert double.masks["root"].sum() == 4 * full.masks["root"].sum()


def test_mask_downscale_keeps_pixels_at_least_half_covered() -> None:
    mask = np.zeros((4, 4), np.uint8)
    mask[0, 0:2] = 1  # half of the top-left 2x2 block
    mask[2, 2] = 1  # a quarter of the bottom-right block
    assert resize_mask(mask, 0.5).tolist() == [[1, 0], [0, 0]]


def test_bare_images_load_without_masks(tmp_path: Path, plate_writer: PlateWriter) -> None:
    plate_writer(tmp_path, "bare", classes=())
    with pytest.raises(DatasetError, match="missing root mask"):
        HadesDataset(tmp_path)
    sample = HadesDataset(tmp_path, require_masks=False)[0]
    assert sample.masks == {}
    assert sample.labels.shape == (60, 80)
    assert not sample.labels.any()


def test_validation_lists_every_problem_before_anything_is_read(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "a")
    write_image(tmp_path / "a_occluded_root_mask.tif", np.zeros((10, 10), np.uint8))
    write_image(tmp_path / "ghost_root_mask.tif", np.zeros((60, 80), np.uint8))
    with pytest.raises(DatasetError) as caught:
        HadesDataset(tmp_path)
    assert len(caught.value.problems) == 2
    assert "a_occluded_root_mask.tif" in str(caught.value)
    assert "ghost_root_mask.tif" in str(caught.value)


def test_without_validation_a_bad_file_fails_when_read(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "a")
    plate_writer(tmp_path, "b")
    write_image(tmp_path / "b_root_mask.tif", np.zeros((10, 10), np.uint8))
    plate_writer(tmp_path, "c")
    (tmp_path / "c.png").write_bytes(b"broken")
    dataset = HadesDataset(tmp_path, validate=False)
    assert dataset[0].stem == "a"  # nothing else was opened
    with pytest.raises(
        DatasetError, match=r"b_root_mask.tif: root mask is 10 x 10 but b.png is 80 x 60"
    ):
        dataset[1]
    with pytest.raises(ImageReadError, match="c.png"):
        dataset[2]


def test_without_validation_missing_masks_still_fail_up_front(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "a", classes=("root",))
    with pytest.raises(DatasetError) as caught:
        HadesDataset(tmp_path, validate=False)
    assert caught.value.problems == ["a.png: missing shoot mask", "a.png: missing seed mask"]


def test_broken_landmarks_fail_when_read(tmp_path: Path, plate_writer: PlateWriter) -> None:
    plate_writer(tmp_path, "a")
    (tmp_path / "a.landmarks.json").write_text("[1, 2]")
    plate_writer(tmp_path, "b")
    (tmp_path / "b.landmarks.json").write_text("{oops")
    dataset = HadesDataset(tmp_path, validate=False)
    with pytest.raises(DatasetError, match="must be a JSON object"):
        dataset[0]
    with pytest.raises(DatasetError, match="b.landmarks.json: not a readable"):
        dataset[1]


def test_missing_or_empty_folders_and_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        HadesDataset(tmp_path / "nope")
    with pytest.raises(DatasetError, match="not an existing folder"):
        HadesDataset(tmp_path / "nope", validate=False)
    with pytest.raises(DatasetError, match="holds no images"):
        HadesDataset(tmp_path, validate=False)
    with pytest.raises(ValueError, match="scale must be positive"):
        HadesDataset(tmp_path, scale=0)
    with pytest.raises(ValueError, match="classes must be distinct names"):
        HadesDataset(tmp_path, classes=("leaf",))


def test_a_subset_reads_only_its_plates_in_the_given_order(plate_folder: Path) -> None:
    dataset = HadesDataset(plate_folder)
    subset = dataset.subset(["plate_c", "plate_a"])
    assert len(subset) == 2
    assert subset.stems == ["plate_c", "plate_a"]
    assert subset[0].stem == "plate_c"
    assert subset.image_path(1) == plate_folder / "plate_a.png"
    assert len(dataset) == 3  # the parent is untouched
    with pytest.raises(KeyError, match="plate_z"):
        dataset.subset(["plate_a", "plate_z"])
