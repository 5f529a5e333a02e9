"""Plants picked by the row: the set that makes one evenly spaced row, not the heaviest blobs."""

from __future__ import annotations

import cv2
import pytest

from visionkit.landmarks import find_plants
from visionkit.landmarks.row import COUNT_FACTOR, pick_row

XS = (150, 300, 450, 600, 750)  # seedling_row's defaults (conftest)
TOP = 100


def test_a_heavy_blob_near_the_rim_beside_the_row_is_not_a_plant(seedling_row):
    maps = seedling_row()
    # Heavier than any seedling, at the row's height, 5 mm inside the wall's limit.
    cv2.circle(maps.shoot, (815, TOP - 15), 14, 0.95, -1)

    plants = maps.find()

    assert [round(p.anchor[0]) for p in plants] == list(XS)
    assert [p.plant for p in plants] == [1, 2, 3, 4, 5]
    assert all(p.components["tip_count"] == 1.0 for p in plants)


def test_a_heavy_debris_blob_just_below_the_row_does_not_push_out_a_seedling(seedling_row):
    maps = seedling_row()
    # Within the row's height tolerance (8 mm below), between plants 2 and 3, heavy.
    cv2.circle(maps.shoot, (380, TOP + 80), 16, 0.95, -1)

    anchors = find_plants(maps.shoot, maps.seed, expected=5)

    assert [round(p.x) for p in anchors] == list(XS)


def test_the_heaviest_five_would_have_taken_the_debris(seedling_row):
    """The scene above is a real test of the row: by mass alone the debris wins a place."""
    maps = seedling_row()
    cv2.circle(maps.shoot, (380, TOP + 80), 16, 0.95, -1)
    masses = sorted((p.mass for p in find_plants(maps.shoot, maps.seed, expected=6)), reverse=True)

    debris = [p for p in find_plants(maps.shoot, maps.seed, expected=6) if round(p.x) == 380]

    assert len(debris) == 1
    assert debris[0].mass in masses[:5]


def test_a_missing_seedling_at_the_rows_end_leaves_four_numbered_left_to_right(seedling_row):
    maps = seedling_row(xs=XS[:4], lengths=(400, 500, 600, 450))
    cv2.circle(maps.shoot, (450, TOP + 300), 20, 0.95, -1)  # debris far below: a speck on the agar

    plants = maps.find()

    assert [round(p.anchor[0]) for p in plants] == list(XS[:4])
    assert [p.plant for p in plants] == [1, 2, 3, 4]
    assert all(p.components["tip_count"] == COUNT_FACTOR for p in plants)
    assert all(p.tip is not None and p.tip[1] > TOP + 300 for p in plants)


def test_with_a_seedling_missing_a_debris_blob_in_its_place_below_the_row_is_left_out():
    # Four of five sown, and a blob 9 mm below the row where the fifth would be.
    anchors = [(150.0, 100.0), (300.0, 100.0), (450.0, 101.0), (600.0, 99.0), (750.0, 190.0)]
    extra = [(500.0, 160.0)]  # and a second one, so there are more candidates than sown

    picked = pick_row(anchors + extra, [1.0, 1.0, 1.0, 1.0, 3.0, 3.0], 5, 10.0)

    assert picked == [0, 1, 2, 3]


def test_pick_row_keeps_everything_when_there_is_nothing_to_choose():
    assert pick_row([(300.0, 10.0), (100.0, 12.0)], [1.0, 2.0], 5, 10.0) == [1, 0]
    assert pick_row([], [], 5, 10.0) == []


@pytest.mark.parametrize("debris_x", [30.0, 375.0, 980.0])
def test_pick_row_prefers_the_even_row_to_a_heavier_blob_anywhere_on_it(debris_x):
    row = [(100.0 + 150.0 * i, 100.0) for i in range(5)]

    picked = pick_row([*row, (debris_x, 100.0)], [1.0] * 5 + [2.5], 5, 10.0)

    assert picked == [0, 1, 2, 3, 4]
