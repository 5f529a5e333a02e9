"""find_plants: seedlings from shoot and seed blobs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from visionkit.landmarks import find_plants


def test_leaves_hypocotyl_and_seed_make_one_plant_anchored_on_the_seed(make_maps):
    maps = make_maps(300, 300)
    maps.seedling(150, 100)

    (plant,) = find_plants(maps.shoot, maps.seed)

    assert plant.has_seed
    assert (plant.x, plant.y) == pytest.approx((150, 100), abs=0.5)
    x0, y0, x1, y1 = plant.bbox
    assert x0 < 145 < 155 < x1
    assert y0 < 80 < 100 < y1
    assert plant.area > 100
    assert plant.mass == pytest.approx(plant.area * 0.95, rel=0.01)


def test_without_seeds_the_anchor_is_the_bottom_of_the_shoot(make_maps):
    maps = make_maps(300, 300)
    maps.seedling(150, 100, seed=False)

    (plant,) = find_plants(maps.shoot, None)

    assert not plant.has_seed
    assert plant.y == pytest.approx(98, abs=2)
    assert plant.x == pytest.approx(150, abs=2)


def test_specks_are_not_plants_and_plants_are_sorted_left_to_right(make_maps):
    maps = make_maps(300, 600)
    for x in (500, 100, 300):
        maps.seedling(x, 100)
    maps.shoot[200:202, 200:202] = 1.0  # 4 px: a speck

    plants = find_plants(maps.shoot, maps.seed, expected=5)

    assert [round(p.x) for p in plants] == [100, 300, 500]


def test_the_heaviest_in_the_row_are_kept(make_maps):
    maps = make_maps(600, 900)
    for x in (100, 250, 400, 550, 700):
        maps.seedling(x, 100)
    cv2.circle(maps.shoot, (850, 95), 4, 0.9, -1)  # a sixth, small one in the row
    cv2.circle(maps.shoot, (400, 500), 30, 0.9, -1)  # a heavy blob far below the row

    plants = find_plants(maps.shoot, maps.seed, expected=5)

    assert [round(p.x) for p in plants] == [100, 250, 400, 550, 700]


def test_empty_maps_have_no_plants():
    empty = np.zeros((50, 50), np.float32)

    assert find_plants(empty, empty) == []
    assert find_plants(empty) == []
