"""A short root's tip placed on the full-resolution image (visionkit.landmarks.fine_tip)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from visionkit.landmarks import find_landmarks
from visionkit.landmarks.fine_tip import refine_short_tips, refine_tip


def _shortened(path: np.ndarray, mm: float, px_per_mm: float) -> np.ndarray:
    """``path`` with ``mm`` taken off its tip end (negative: carried on straight)."""
    if mm < 0:
        direction = path[-1] - path[max(-4, -len(path))]
        direction /= np.hypot(*direction)
        return np.vstack([path, path[-1] + (-mm * px_per_mm) * direction])
    lengths = np.hypot(*np.diff(path, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    end = along[-1] - mm * px_per_mm
    k = int(np.searchsorted(along, end))
    t = (end - along[k - 1]) / lengths[k - 1]
    return np.vstack([path[:k], path[k - 1] + t * (path[k] - path[k - 1])])


@pytest.fixture(scope="module")
def tiny_plate():
    """A full-resolution synthetic Hades frame whose seedlings are all late and tiny."""
    from visionkit.synth import SynthConfig, generate_plate

    config = dataclasses.replace(SynthConfig(), families=("tiny",), p_family=1.0)
    plate = generate_plate(5, config)
    return plate, 1.0 / float(plate.landmarks["dish"]["mm_per_px"])


@pytest.mark.parametrize("off_mm", [0.6, 0.3, -0.4])
def test_a_tiny_roots_tip_cut_short_or_overshot_lands_on_its_true_end(tiny_plate, off_mm):
    plate, ppm = tiny_plate
    refined = 0
    for plant in plate.landmarks["plants"]:
        if not plant["present"] or not 1.5 <= plant["primary_root_length_mm"] < 5.0:
            continue
        truth = np.array([plant["tip"]["x"], plant["tip"]["y"]])
        path = _shortened(np.array(plant["primary_root_path"], np.float64), off_mm, ppm)

        moved = refine_tip(path, plate.image, px_per_mm=ppm)

        assert np.hypot(*(moved[-1] - truth)) / ppm <= 0.15
        refined += 1
    assert refined >= 1  # the plate holds at least one tiny root to test on


def test_a_dark_root_on_light_agar_is_followed_too():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(170, 3, (300, 300)), 0, 255).astype(np.uint8)
    cv2.line(image, (150, 60), (150, 160), 150, 5)  # 20 grey levels darker, ends at y=160

    moved = refine_tip(np.array([[150.0, 60.0], [150.0, 150.0]]), image, px_per_mm=20.0)

    assert abs(moved[-1, 1] - 161.5) <= 2.0  # the line's last row and a half pixel
    assert abs(moved[-1, 0] - 150.0) <= 0.5


def test_a_root_too_faint_to_see_keeps_its_tip():
    rng = np.random.default_rng(1)
    image = np.clip(rng.normal(120, 2, (300, 300)), 0, 255).astype(np.uint8)
    path = np.array([[150.0, 60.0], [150.0, 150.0]])

    assert np.array_equal(refine_tip(path, image, px_per_mm=20.0), path)


def test_bad_input_is_refused():
    path = np.array([[5.0, 5.0], [5.0, 15.0]])
    with pytest.raises(ValueError, match="px_per_mm"):
        refine_tip(path, np.zeros((20, 20), np.uint8), px_per_mm=0.0)
    with pytest.raises(ValueError, match="H x W"):
        refine_tip(path, np.zeros((2, 20, 20, 1), np.uint8), px_per_mm=10.0)


def test_short_roots_found_on_half_scale_maps_get_their_tip_from_the_full_image(make_maps):
    # The input: a 3 mm bright root at 20 px/mm from y=200 to y=260; the long one is 20 mm.
    rng = np.random.default_rng(2)
    image = np.clip(rng.normal(100, 3, (800, 800)), 0, 255).astype(np.uint8)
    cv2.line(image, (300, 200), (300, 260), 150, 5)
    cv2.line(image, (500, 200), (500, 600), 150, 5)
    # The model's half-scale maps cut the short root 0.5 mm short, the long one too.
    maps = make_maps(400, 400)
    for x in (150, 250):
        maps.seedling(x, 100)
    maps.line([(150, 102), (150, 125)], width=2)
    maps.line([(250, 102), (250, 295)], width=2)
    found = find_landmarks(maps.root, maps.shoot, maps.seed, expected_plants=2, px_per_mm=10.0)

    tips = refine_short_tips(
        found.plants, image, to_input=lambda p: 2.0 * np.asarray(p) + 0.5, input_px_per_mm=20.0
    )

    assert tips[0] is not None
    assert abs(tips[0][1] - 261.5) <= 2.0  # moved on to the image's end
    long_tip = found.plants[1].tip
    assert long_tip is not None
    assert tips[1] == (2.0 * long_tip[0] + 0.5, 2.0 * long_tip[1] + 0.5)  # only mapped
