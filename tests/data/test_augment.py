"""Augmentations are seeded, keep plants upright by default, and move labels with pixels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from visionkit.data.augment import Augment


def _patch() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((32, 32), 0.8, np.float32)
    labels = np.zeros((32, 32), np.uint8)
    image[4:8, 2:5] = 0.3  # shoot, top left
    labels[4:8, 2:5] = 2
    image[8:28, 3:5] = 0.4  # root growing down from it
    labels[8:28, 3:5] = 1
    return image, labels


def test_the_same_seed_gives_the_same_patch() -> None:
    image, labels = _patch()
    augment = Augment(blur_p=0.5, noise_p=0.5)
    first = augment(image, labels, np.random.default_rng(7))
    second = augment(image, labels, np.random.default_rng(7))
    assert np.array_equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    others = [augment(image, labels, np.random.default_rng(s))[0] for s in range(5)]
    assert any(not np.array_equal(first[0], o) for o in others)


def test_output_is_float32_in_unit_range_and_inputs_are_untouched() -> None:
    image, labels = _patch()
    before = image.copy(), labels.copy()
    strong = Augment(brightness=0.5, contrast=0.9, noise_p=1.0, noise_std=0.5, blur_p=1.0)
    for seed in range(10):
        out, lab = strong(image, labels, np.random.default_rng(seed))
        assert out.dtype == np.float32
        assert out.shape == image.shape
        assert out.min() >= 0.0
        assert out.max() <= 1.0
        assert set(np.unique(lab)) <= {0, 1, 2}
    assert np.array_equal(image, before[0])
    assert np.array_equal(labels, before[1])


def test_flips_move_the_labels_with_the_pixels() -> None:
    image, labels = _patch()
    mirror = replace(Augment.none(), hflip=1.0)
    mirrored, mirrored_labels = mirror(image, labels, np.random.default_rng(0))
    assert np.array_equal(mirrored, image[:, ::-1])
    assert np.array_equal(mirrored_labels, labels[:, ::-1])
    upside_down = replace(Augment.none(), vflip=1.0)
    flipped, flipped_labels = upside_down(image, labels, np.random.default_rng(0))
    assert np.array_equal(flipped, image[::-1])
    assert np.array_equal(flipped_labels, labels[::-1])


def test_plants_stay_upright_by_default() -> None:
    image, labels = _patch()
    augment = Augment()
    assert augment.vflip == 0.0
    for seed in range(40):
        _, lab = augment(image, labels, np.random.default_rng(seed))
        shoot_rows = np.nonzero(lab == 2)[0]
        root_rows = np.nonzero(lab == 1)[0]
        assert shoot_rows.mean() < root_rows.mean()  # shoot above root, always


def test_photometric_changes_leave_labels_alone() -> None:
    image, labels = _patch()
    photometric = Augment(
        hflip=0, brightness=0.3, contrast=0.5, blur_p=1.0, noise_p=1.0, rotate_p=0.0
    )
    out, lab = photometric(image, labels, np.random.default_rng(3))
    assert np.array_equal(lab, labels)
    assert not np.allclose(out, image)
    # the root stays darker than the agar: contrast is changed, not inverted
    assert out[labels == 1].mean() < out[labels == 0].mean()


def test_none_changes_nothing() -> None:
    image, labels = _patch()
    out, lab = Augment.none()(image, labels, np.random.default_rng(0))
    assert np.array_equal(out, image)
    assert np.array_equal(lab, labels)


def test_gamma_darkens_or_lightens_mid_greys() -> None:
    image = np.full((4, 4), 0.5, np.float32)
    labels = np.zeros((4, 4), np.uint8)
    dark = replace(Augment.none(), gamma=(2.0, 2.0))
    assert dark(image, labels, np.random.default_rng(0))[0][0, 0] == pytest.approx(0.25)


def test_rotations_turn_the_labels_with_the_pixels() -> None:
    image, labels = _patch()
    turn = replace(Augment.none(), rotate_p=1.0, rotate_deg=15.0)
    for seed in range(5):
        out, lab = turn(image, labels, np.random.default_rng(seed))
        assert out.shape == image.shape
        assert lab.dtype == labels.dtype
        assert set(np.unique(lab)) <= {0, 1, 2}
        assert not np.array_equal(lab, labels)
        # Root pixels stay on dark image pixels; agar stays bright.
        assert out[lab == 1].mean() < 0.5
        assert out[lab == 0].mean() > 0.7


def test_the_gradient_ramps_a_flat_image_by_the_amplitude() -> None:
    flat = np.full((64, 64), 0.5, np.float32)
    labels = np.zeros((64, 64), np.uint8)
    ramp = replace(Augment.none(), gradient=0.2)
    spans = []
    for seed in range(10):
        out, lab = ramp(flat, labels, np.random.default_rng(seed))
        assert np.array_equal(lab, labels)
        assert out.min() >= 0.5 * 0.8 - 1e-6
        assert out.max() <= 0.5 * 1.2 + 1e-6
        spans.append(out.max() - out.min())
    assert max(spans) > 0.1  # some draws ramp strongly


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hflip": 1.5}, "hflip is a probability"),
        ({"noise_p": -0.1}, "noise_p is a probability"),
        ({"brightness": -1}, "brightness must be >= 0"),
        ({"gamma": (1.2, 0.8)}, "gamma must be"),
        ({"blur_sigma": (0, 1)}, "blur_sigma must be"),
        ({"rotate_p": 2.0}, "rotate_p is a probability"),
        ({"gradient": -0.1}, "gradient must be >= 0"),
    ],
)
def test_bad_recipes_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Augment(**kwargs)
