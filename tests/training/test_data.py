"""Training data: reproducible patches, aligned labels, clear errors on bad folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers.training import ConfigFactory
from visionkit.exceptions import DatasetError
from visionkit.training.data import (
    BlockShuffleSampler,
    PatchDataset,
    build_training_data,
    iter_val_batches,
    to_input,
)


def test_held_out_split_and_versions(make_config: ConfigFactory) -> None:
    data = build_training_data(make_config())
    assert (len(data.train_stems), len(data.val_stems)) == (7, 1)
    assert not set(data.train_stems) & set(data.val_stems)
    assert len(data.data_version) == 64
    assert data.val_version is None
    assert len(data.train) == 16


def test_separate_validation_folder(make_config: ConfigFactory, val_plates: Path) -> None:
    data = build_training_data(make_config(val_dir=str(val_plates)))
    assert len(data.train_stems) == 8
    assert len(data.val_stems) == 2
    assert data.val_version is not None
    assert data.val_version != data.data_version


def test_patches_are_reproducible_and_differ_by_epoch(make_config: ConfigFactory) -> None:
    first = build_training_data(make_config()).train
    second = build_training_data(make_config()).train
    image, labels = first[5]
    assert image.shape == (1, 64, 64)
    assert image.dtype == torch.float32
    assert labels.shape == (64, 64)
    assert labels.dtype == torch.uint8
    assert torch.equal(image, second[5][0])
    assert torch.equal(labels, second[5][1])
    first.set_epoch(1)
    assert not torch.equal(first[5][0], image)


def test_patches_are_normalised_and_labels_follow_the_roots(make_config: ConfigFactory) -> None:
    dataset = build_training_data(make_config(augment=False, scale_jitter=0.0)).train
    images = torch.stack([dataset[k][0] for k in range(len(dataset))])
    labels = torch.stack([dataset[k][1] for k in range(len(dataset))])
    assert int((labels == 1).sum()) > 0, "positive patches hold root pixels"
    # roots are darker than the agar around them: labels sit on the image's roots
    root_grey = float(images[:, 0][labels == 1].mean())
    agar_grey = float(images[:, 0][labels == 0].median())
    assert root_grey < agar_grey
    assert -2.5 < float(images.mean()) < 2.5


def test_scale_jitter_keeps_the_patch_size(make_config: ConfigFactory) -> None:
    jittered = build_training_data(make_config(scale_jitter=0.2)).train
    assert jittered.sampler.patch_size == 80  # ceil(64 / 0.8)
    for k in range(4):
        image, labels = jittered[k]
        assert image.shape == (1, 64, 64)
        assert labels.shape == (64, 64)
        assert set(labels.unique().tolist()) <= {0, 1, 2, 3, 4}


def test_scale_jitter_keeps_labels_on_the_image_to_a_fraction_of_a_pixel(
    make_config: ConfigFactory,
) -> None:
    """Image and labels are resampled on the same pixel grid (no half-pixel drift)."""
    jittered = build_training_data(make_config(scale_jitter=0.2)).train
    window = jittered.sampler.patch_size
    labels = np.zeros((window, window), np.uint8)
    labels[22:49, 30:57] = 1
    image = labels.astype(np.float32)

    def centre(values: np.ndarray) -> np.ndarray:
        ys, xs = np.mgrid[: values.shape[0], : values.shape[1]]
        weight = values.astype(np.float64)
        return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()

    drift = []
    for k in range(16):
        out_image, out_labels = jittered._jitter(image, labels, k)
        if out_labels.any():
            drift.append(centre(out_labels) - centre(out_image))
    mean_drift = np.abs(np.mean(drift, axis=0))
    assert len(drift) >= 8
    assert mean_drift.max() < 0.15, mean_drift


def test_patch_dataset_refuses_small_windows(make_config: ConfigFactory) -> None:
    sampler = build_training_data(make_config(scale_jitter=0.0)).train.sampler
    with pytest.raises(ValueError, match="at least patch_size"):
        PatchDataset(sampler, 128)


def test_block_shuffle_is_a_reproducible_permutation_that_can_resume() -> None:
    order = BlockShuffleSampler(20, 8, seed=1)
    first = list(order)
    assert sorted(first) == list(range(20))
    assert first != list(range(20))
    assert sorted(first[:8]) == list(range(8)), "shuffled within blocks only"
    assert list(BlockShuffleSampler(20, 8, seed=1)) == first
    order.start_at(12)
    assert list(order) == first[12:]
    assert len(order) == 8
    order.set_epoch(1)
    assert len(order) == 20
    assert list(order) != first


def test_validation_windows_cover_the_plates(make_config: ConfigFactory) -> None:
    data = build_training_data(make_config())
    batches = list(iter_val_batches(data.val_sampler, 5, (0.5, 0.25)))
    count = sum(len(b[2]) for b in batches)
    assert all(len(b[2]) == 5 for b in batches[:-1])
    assert batches[0][0].shape[1:] == (1, 64, 64)
    # ~330-px plates at 64-px windows: 6 x 6 windows per plate
    assert count == 36 * len(data.val_stems)


def test_colour_images_become_grey() -> None:
    image = np.full((4, 4, 3), 0.75, np.float32)
    out = to_input(image, (0.5, 0.25))
    assert out.shape == (1, 4, 4)
    assert np.allclose(out, 1.0)


def test_missing_and_empty_folders(make_config: ConfigFactory, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such data folder"):
        build_training_data(make_config(data_dir=str(tmp_path / "nope")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no images"):
        build_training_data(make_config(data_dir=str(tmp_path / "empty")))


def test_invalid_folder_lists_every_problem(
    make_config: ConfigFactory, plates: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(plates, broken)
    root_masks = sorted(p for p in broken.glob("*_root_mask.tif") if "occluded" not in p.name)
    root_masks[0].unlink()
    root_masks[1].write_bytes(b"not a tiff")
    with pytest.raises(DatasetError) as info:
        build_training_data(make_config(data_dir=str(broken)))
    assert len(info.value.problems) >= 2
    message = str(info.value)
    assert root_masks[0].name.replace("_root_mask.tif", "") in message
    assert root_masks[1].name in message


def test_too_few_plates_to_hold_out(
    make_config: ConfigFactory, plates: Path, tmp_path: Path
) -> None:
    single = tmp_path / "single"
    single.mkdir()
    stem = sorted(plates.glob("*.png"))[0].stem
    for path in plates.glob(f"{stem}*"):
        shutil.copy(path, single / path.name)
    with pytest.raises(DatasetError, match="give a --val folder"):
        build_training_data(make_config(data_dir=str(single)))


@pytest.mark.parametrize("workers", [0, 2])
def test_cache_holds_every_plate_and_changes_no_patch(
    make_config: ConfigFactory, workers: int
) -> None:
    plain = build_training_data(make_config())
    cached = build_training_data(make_config(cache=True, num_workers=workers))
    sampler = cached.train.sampler
    assert len(sampler._cache) == len(cached.train_stems)
    assert cached.val_sampler._cache
    assert sampler.cached_bytes > 0
    for k in (0, 5, 11):
        (a_image, a_labels), (b_image, b_labels) = plain.train[k], cached.train[k]
        assert torch.equal(a_image, b_image)
        assert torch.equal(a_labels, b_labels)
    # The whole epoch is one shuffle block: plates mix from the first batch.
    assert cached.order.block == len(cached.train)
    assert sorted(cached.order) == list(range(len(cached.train)))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_cached_run_trains(make_config: ConfigFactory, workers: int) -> None:
    """One worker preloads in this process, whose OpenCV pool is then running
    when the DataLoader forks: the case that once hung the worker."""
    import cv2

    from visionkit.training import train

    cv2.resize(np.zeros((2000, 2000), np.float32), (1000, 1000))  # start OpenCV's pool
    result = train(make_config(epochs=1, cache=True, num_workers=workers), progress=False)
    assert result.epochs_done == 1
    assert result.best_dir is not None


def test_a_data_scale_that_disagrees_with_the_plates_is_warned_about(
    make_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="visionkit.training.data"):
        build_training_data(make_config())  # the plates are drawn at 0.125 x a Hades frame
    assert not caplog.records
    with caplog.at_level("WARNING", logger="visionkit.training.data"):
        build_training_data(make_config(data_scale=1.0))
    (record,) = caplog.records
    assert "data_scale is 1 (20.0 px/mm)" in record.getMessage()
    assert "pass --data-scale 0.13" in record.getMessage()
