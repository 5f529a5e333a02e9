"""The data layer on folders from visionkit.synth: datasets, dish detection, patches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from visionkit.data import (
    HadesDataset,
    PatchSampler,
    build_manifest,
    detect_dish,
    group_by_regex,
    split_by_image,
    validate_folder,
)

synth = pytest.importorskip("visionkit.synth", reason="visionkit.synth is not installed")

SCALE = 0.25  # quarter-scale Hades frames: 1050 x 752, about 5 px/mm


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth_frames")
    config = synth.SynthConfig().scaled(SCALE)
    synth.generate_dataset(folder, 4, seed=11, config=config, progress=False)
    return folder


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth_crops")
    config = synth.SynthConfig().scaled(SCALE)
    synth.generate_dataset(folder, 2, seed=12, config=config, crop=True, progress=False)
    return folder


def test_a_synthetic_folder_is_a_valid_dataset(frames: Path) -> None:
    report = validate_folder(frames)
    assert report.ok, report.problems
    assert report.n_images == 4
    assert report.mask_counts == {"root": 4, "shoot": 4, "seed": 4, "occluded_root": 4}
    assert 0 < report.class_shares["root"] < 0.05

    dataset = HadesDataset(frames)
    assert len(dataset) == 4
    sample = dataset[0]
    assert sample.image.shape == (752, 1050)
    assert set(sample.masks) == {"root", "shoot", "seed", "occluded_root"}
    assert sample.landmarks is not None
    assert sample.landmarks["image"] == sample.path.name
    assert (sample.labels == 1).any()
    # roots are darker than the agar of the dish
    x0, y0, x1, y1 = sample.landmarks["dish"]["bbox"]
    agar = np.median(sample.image[y0:y1, x0:x1])
    assert sample.image[sample.masks["root"] > 0].mean() < agar - 5


def test_dish_detection_agrees_with_the_generator(frames: Path) -> None:
    dataset = HadesDataset(frames)
    for sample in dataset:
        assert sample.landmarks is not None
        truth = sample.landmarks["dish"]
        dish = detect_dish(sample.image)
        assert dish.found, (sample.stem, dish.reason)
        side = (truth["bbox"][2] - truth["bbox"][0] + truth["bbox"][3] - truth["bbox"][1]) / 2
        assert np.allclose(dish.bbox, truth["bbox"], atol=0.03 * side), (dish.bbox, truth)
        assert dish.mm_per_px == pytest.approx(truth["mm_per_px"], rel=0.03)
        assert dish.angle == pytest.approx(truth["rotation_deg"], abs=0.5)


def test_dish_crops_are_their_own_dish(crops: Path) -> None:
    for sample in HadesDataset(crops):
        assert sample.landmarks is not None
        dish = detect_dish(sample.image)
        height, width = sample.image.shape
        assert dish.found, dish.reason
        assert np.allclose(dish.bbox, (0, 0, width, height), atol=0.02 * width)
        assert dish.mm_per_px == pytest.approx(sample.landmarks["dish"]["mm_per_px"], rel=0.03)


def test_patches_stay_in_the_dish_and_find_roots(frames: Path) -> None:
    dataset = HadesDataset(frames, scale=0.5)
    sampler = PatchSampler(dataset, 64, positive_fraction=1.0, dish_only=True, patches_per_image=4)
    for k in range(len(sampler)):
        image, labels = sampler[k]
        assert image.shape == labels.shape == (64, 64)
        assert (labels == 1).any() or (labels == 4).any()  # root, or root under a droplet
    first = dataset[0]
    assert first.landmarks is not None
    x0, y0, x1, y1 = (round(v * 0.5) for v in first.landmarks["dish"]["bbox"])
    for patch in sampler.grid(0):
        assert x0 <= patch.x
        assert patch.x + 64 <= max(x1, x0 + 64)
        assert y0 <= patch.y
        assert patch.y + 64 <= max(y1, y0 + 64)


def test_synthetic_plates_split_and_version_like_real_ones(frames: Path) -> None:
    stems = HadesDataset(frames, validate=False).stems
    plate_of = group_by_regex(r"_(\d+)-Fish Eye")
    splits = split_by_image(stems, (0.5, 0.25, 0.25), group_of=plate_of)
    assert sorted(s for members in splits.values() for s in members) == sorted(stems)
    assert build_manifest(frames).version == build_manifest(frames).version


def test_a_crop_with_a_flat_wall_profile_does_not_crash(tmp_path: Path) -> None:
    """Regression: plate 2 of seed 3 once divided by zero measuring its wall."""
    from visionkit.imageio import read_image
    from visionkit.synth import generate_dataset

    paths = generate_dataset(tmp_path, 2, 3, crop=True, progress=False)
    image, _ = read_image(sorted(p for p in paths if p.suffix == ".png")[1])
    dish = detect_dish(image)
    assert dish.found
    x0, y0, x1, y1 = dish.bbox
    assert x1 - x0 > 0.9 * image.shape[1]
    assert y1 - y0 > 0.9 * image.shape[0]
