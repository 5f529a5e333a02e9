"""``tip_trail``: a root that goes on, faintly, beyond its tip (visionkit.landmarks.trail)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from tests.landmarks.test_fine_tip import _shortened
from visionkit.landmarks.trail import (
    TRAIL_CLEAR,
    TRAIL_FLOOR,
    trail_factor,
    trail_ratio,
)

PX_PER_MM = 20.0


def _agar(seed: int = 0, height: int = 400) -> np.ndarray:
    """Light agar with a few grey levels of pixel noise."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(170, 3, (height, 300)), 0, 255).astype(np.uint8)


def _path(top: int, bottom: int) -> np.ndarray:
    return np.array([[150.0, y] for y in range(top, bottom + 1, 5)])


def test_a_root_that_ends_where_its_path_does_leaves_no_trail():
    image = _agar()
    cv2.line(image, (150, 60), (150, 200), 145, 4)  # ends at y = 200
    ratio = trail_ratio(_path(60, 200), image, px_per_mm=PX_PER_MM)
    assert ratio is not None
    assert ratio < TRAIL_CLEAR
    assert trail_factor(ratio) == 1.0


def test_a_root_that_fades_on_beyond_the_tip_is_doubted():
    image = _agar()
    cv2.line(image, (150, 60), (150, 200), 145, 4)
    cv2.line(image, (150, 200), (158, 260), 160, 3)  # fainter, bending a little, 3 mm on
    ratio = trail_ratio(_path(60, 200), image, px_per_mm=PX_PER_MM)
    assert ratio is not None
    assert ratio > 0.3
    assert TRAIL_FLOOR <= trail_factor(ratio) < 0.9


def test_a_root_as_dark_beyond_the_tip_gets_the_floor():
    image = _agar()
    cv2.line(image, (150, 60), (150, 300), 145, 4)
    factor = trail_factor(trail_ratio(_path(60, 200), image, px_per_mm=PX_PER_MM))
    assert TRAIL_FLOOR <= factor < TRAIL_FLOOR + 0.05


def test_what_cannot_be_measured_is_no_doubt():
    image = _agar()
    assert trail_ratio(_path(60, 95), image, px_per_mm=PX_PER_MM) is None  # under 2 mm
    assert trail_ratio(np.array([[150.0, 60.0]]), image, px_per_mm=PX_PER_MM) is None
    off = np.array([[1000.0, 60.0], [1000.0, 200.0]])
    assert trail_ratio(off, image, px_per_mm=PX_PER_MM) is None
    assert trail_factor(None) == 1.0
    assert trail_factor(float("nan")) == 1.0
    with pytest.raises(ValueError, match="px_per_mm must be positive"):
        trail_ratio(_path(60, 200), image, px_per_mm=0.0)


def _fading_roots() -> Iterator[tuple[np.ndarray, float, np.ndarray]]:
    """``(image, px_per_mm, true path)`` of each fading root of 6 mm or more on two plates."""
    from visionkit.synth import SynthConfig, generate_plate

    config = dataclasses.replace(SynthConfig(), families=("fading",), p_family=1.0)
    for seed in (11, 12):
        plate = generate_plate(seed, config)
        ppm = 1.0 / float(plate.landmarks["dish"]["mm_per_px"])
        for plant in plate.landmarks["plants"]:
            if plant["present"] and plant["primary_root_length_mm"] >= 6.0:
                yield plate.image, ppm, np.array(plant["primary_root_path"], np.float64)


def test_fading_roots_cut_short_are_doubted_and_their_true_ends_are_not():
    whole, cut = [], []
    for image, ppm, path in _fading_roots():
        shorter = _shortened(path, 2.0, ppm)
        whole.append(trail_factor(trail_ratio(path, image, px_per_mm=ppm)))
        cut.append(trail_factor(trail_ratio(shorter, image, px_per_mm=ppm)))
    assert len(whole) >= 4
    assert np.mean(whole) > np.mean(cut)
    assert sum(f == 1.0 for f in whole) >= len(whole) - 1  # a real end leaves agar ahead
