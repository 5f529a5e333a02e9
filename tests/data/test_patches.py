"""Training patches are reproducible and find the roots; grid patches tile the plate."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.folders import PlateWriter, make_frame
from visionkit.data.augment import Augment
from visionkit.data.convention import mask_name
from visionkit.data.dataset import HadesDataset, Sample
from visionkit.data.patches import PatchSampler, grid_positions
from visionkit.imageio import write_image

SHAPE = (200, 240)


@pytest.fixture
def dataset(tmp_path: Path, plate_writer: PlateWriter) -> HadesDataset:
    for index in range(3):
        plate_writer(tmp_path, f"plate_{index}", shape=SHAPE, seed=index)
    return HadesDataset(tmp_path)


def _has_root(labels: np.ndarray) -> bool:
    return bool((labels == 1).any())


def test_length_is_plates_times_patches_per_image(dataset: HadesDataset) -> None:
    sampler = PatchSampler(dataset, 32, patches_per_image=5)
    assert len(sampler) == 15
    assert len(list(sampler)) == 15
    with pytest.raises(IndexError, match="patch index 15 out of range"):
        sampler[15]


def test_patches_depend_only_on_seed_epoch_and_index(dataset: HadesDataset) -> None:
    first = PatchSampler(dataset, 32, seed=3, augment=Augment())
    second = PatchSampler(dataset, 32, seed=3, augment=Augment())
    forward = [first[k] for k in range(len(first))]
    backward = [second[k] for k in reversed(range(len(second)))][::-1]
    for (a_img, a_lab), (b_img, b_lab) in zip(forward, backward, strict=True):
        assert np.array_equal(a_img, b_img)
        assert np.array_equal(a_lab, b_lab)

    other_seed = PatchSampler(dataset, 32, seed=4, augment=Augment())
    assert any(not np.array_equal(a[0], other_seed[k][0]) for k, a in enumerate(forward))
    first.set_epoch(1)
    assert first.epoch == 1
    assert any(not np.array_equal(a[0], first[k][0]) for k, a in enumerate(forward))


def test_patches_are_cut_from_the_plate_pixels(dataset: HadesDataset) -> None:
    sampler = PatchSampler(dataset, 48, positive_fraction=1.0)
    image, labels = sampler[0]
    assert image.shape == labels.shape == (48, 48)
    assert image.dtype == np.float32
    assert labels.dtype == np.uint8
    plate = dataset[sampler.plate_of(0)]
    # find the window the patch came from: it must match pixel for pixel
    windows = [
        (x, y)
        for y in range(SHAPE[0] - 47)
        for x in range(SHAPE[1] - 47)
        if np.array_equal(labels, plate.labels[y : y + 48, x : x + 48])
        and np.allclose(image * 255, plate.image[y : y + 48, x : x + 48])
    ]
    assert windows


def test_positive_fraction_oversamples_roots(dataset: HadesDataset) -> None:
    def share(fraction: float) -> float:
        sampler = PatchSampler(dataset, 32, positive_fraction=fraction, patches_per_image=40)
        return float(np.mean([_has_root(labels) for _, labels in sampler]))

    always, never, half = share(1.0), share(0.0), share(0.5)
    assert always == 1.0
    assert never < 0.4
    assert never < half < always


def test_plates_without_roots_fall_back_to_random_patches(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "a", shape=SHAPE)
    write_image(tmp_path / mask_name("a", "root"), np.zeros(SHAPE, np.uint8))
    sampler = PatchSampler(HadesDataset(tmp_path), 32, positive_fraction=1.0)
    assert not any(_has_root(labels) for _, labels in sampler)


def test_augmentation_uses_the_patch_seed_and_moves_labels(dataset: HadesDataset) -> None:
    plain = PatchSampler(dataset, 32, seed=1)
    mirror = dataclasses.replace(Augment.none(), hflip=1.0)
    mirrored = PatchSampler(dataset, 32, seed=1, augment=mirror)
    for k in range(len(plain)):
        assert np.array_equal(mirrored[k][0], plain[k][0][:, ::-1])
        assert np.array_equal(mirrored[k][1], plain[k][1][:, ::-1])


def test_uint8_patches_keep_the_raw_grey_levels(dataset: HadesDataset) -> None:
    floats = PatchSampler(dataset, 32, seed=2)
    raw = PatchSampler(dataset, 32, seed=2, dtype="uint8")
    image, _ = raw[3]
    assert image.dtype == np.uint8
    assert np.array_equal(image, (floats[3][0] * 255).round().astype(np.uint8))
    augmented = PatchSampler(dataset, 32, seed=2, dtype="uint8", augment=Augment(noise_p=1.0))
    assert augmented[3][0].dtype == np.uint8


class _CountingDataset(HadesDataset):
    """The real dataset, counting how often a plate is read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads = 0

    def __getitem__(self, index: int) -> Sample:
        self.reads += 1
        return super().__getitem__(index)


def test_iterating_in_order_reads_each_plate_once(dataset: HadesDataset) -> None:
    counting = _CountingDataset(dataset.root)
    sampler = PatchSampler(counting, 32, patches_per_image=6, cache_size=1)
    list(sampler)
    assert counting.reads == len(counting)
    assert sorted({sampler.plate_of(k) for k in range(len(sampler))}) == [0, 1, 2]


def test_grid_tiles_the_whole_plate(dataset: HadesDataset) -> None:
    sampler = PatchSampler(dataset, 64, stride=48)
    patches = list(sampler.grid(1))
    plate = dataset[1]
    covered = np.zeros(SHAPE, bool)
    for patch in patches:
        assert patch.stem == "plate_1"
        window = plate.image[patch.y : patch.y + 64, patch.x : patch.x + 64]
        assert np.allclose(patch.image * 255, window)
        assert np.array_equal(
            patch.labels, plate.labels[patch.y : patch.y + 64, patch.x : patch.x + 64]
        )
        covered[patch.y : patch.y + 64, patch.x : patch.x + 64] = True
    assert covered.all()
    assert [(p.x, p.y) for p in patches][:5] == [(0, 0), (48, 0), (96, 0), (144, 0), (176, 0)]
    assert len(patches) == 5 * 4


def test_grid_positions_cover_regions_and_small_images() -> None:
    assert grid_positions((10, 10), 4, 4) == [(x, y) for y in (0, 4, 6) for x in (0, 4, 6)]
    assert grid_positions((100, 100), 8, 8, region=(10, 20, 26, 28)) == [(10, 20), (18, 20)]
    assert grid_positions((5, 3), 8, 8) == [(0, 0)]
    with pytest.raises(ValueError, match="positive"):
        grid_positions((5, 5), 0, 1)


def test_patches_of_a_small_plate_are_zero_padded(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "small", shape=(20, 30))
    sampler = PatchSampler(HadesDataset(tmp_path), 32)
    image, _labels = sampler[0]
    assert image.shape == (32, 32)
    assert not image[20:, :].any()
    assert not image[:, 30:].any()
    assert image[:20, :30].min() > 0
    (patch,) = sampler.grid(0)
    assert (patch.x, patch.y) == (0, 0)


def test_dish_only_uses_the_landmarks_bbox(tmp_path: Path, plate_writer: PlateWriter) -> None:
    plate_writer(tmp_path, "a", shape=SHAPE, landmarks={"dish": {"bbox": [60, 50, 180, 170]}})
    dataset = HadesDataset(tmp_path)
    sampler = PatchSampler(dataset, 32, dish_only=True, patches_per_image=30, dtype="uint8")
    plate = dataset[0]
    for image, _ in sampler:
        # every patch lies inside the box: find it there
        inside = plate.image[50:170, 60:180]
        assert any(
            np.array_equal(image, inside[y : y + 32, x : x + 32])
            for y in range(0, 120 - 31)
            for x in range(0, 120 - 31)
        )
    grid = list(sampler.grid(0))
    assert min(p.x for p in grid) == 60
    assert max(p.x for p in grid) == 180 - 32
    assert min(p.y for p in grid) == 50
    assert max(p.y for p in grid) == 170 - 32

    half = PatchSampler(HadesDataset(tmp_path, scale=0.5), 16, dish_only=True)
    assert {(p.x, p.y) for p in half.grid(0)} >= {(30, 25), (90 - 16, 85 - 16)}


def test_dish_only_detects_the_dish_without_landmarks(tmp_path: Path) -> None:
    frame = make_frame((260, 200), 150, center=(140.0, 100.0))
    write_image(tmp_path / "frame.png", frame)
    for cls in ("root", "shoot", "seed"):
        write_image(tmp_path / mask_name("frame", cls), np.zeros(frame.shape, np.uint8))
    sampler = PatchSampler(HadesDataset(tmp_path), 32, dish_only=True, dtype="uint8")
    positions = [(p.x, p.y) for p in sampler.grid(0)]
    xs, ys = [x for x, _ in positions], [y for _, y in positions]
    assert 62 <= min(xs) <= 68  # the dish spans x 65..215, y 25..175
    assert 22 <= min(ys) <= 28
    assert 212 <= max(xs) + 32 <= 218
    assert 172 <= max(ys) + 32 <= 178


def test_dish_only_falls_back_to_the_whole_image(
    tmp_path: Path, plate_writer: PlateWriter, caplog: pytest.LogCaptureFixture
) -> None:
    plate_writer(tmp_path, "nodish", shape=SHAPE)
    plate_writer(
        tmp_path, "badbox", shape=SHAPE, landmarks={"dish": {"bbox": [500, 500, 600, 600]}}
    )
    sampler = PatchSampler(HadesDataset(tmp_path), 64, dish_only=True)
    with caplog.at_level(logging.WARNING):
        for index in range(2):
            positions = [(p.x, p.y) for p in sampler.grid(index)]
            assert (0, 0) in positions
            assert (SHAPE[1] - 64, SHAPE[0] - 64) in positions
    assert "badbox: dish bbox outside the image" in caplog.text
    assert "nodish: no dish found" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patch_size": 0}, "patch_size must be positive"),
        ({"stride": 0}, "stride must be positive"),
        ({"positive_fraction": 1.5}, "positive_fraction"),
        ({"patches_per_image": 0}, "patches_per_image"),
        ({"dtype": "float64"}, "dtype"),
        ({"classes_of_interest": ("leaf",)}, r"\['leaf'\] are not loaded"),
    ],
)
def test_bad_settings_are_refused(dataset: HadesDataset, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PatchSampler(dataset, **kwargs)
