"""The Hades plate's priors: the wall, one seedling per plant, the row, doubt where they break."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.landmarks import find_plants
from visionkit.landmarks.row import COUNT_FACTOR, count_factor, row_factors

XS = (150, 300, 450, 600, 750)  # seedling_row's defaults (conftest)
TOP = 100


def test_a_phantom_on_the_dish_wall_is_not_a_plant_and_the_tiny_real_one_is(seedling_row, dist):
    maps = seedling_row(xs=(150, 300, 450, 600), lengths=(400, 500, 600, 450))
    # The rim, called shoot at the top and root down to the dish's bottom corner.
    maps.line([(8, 60), (10, 140)], width=8, layer="shoot")
    maps.line([(10, 142), (12, 880)], width=4)
    # A tiny late seedling at the right end of the row: a 2.5 mm root.
    maps.seedling(750, TOP, value=0.7)
    maps.shoot[TOP - 26 : TOP, 735:765] *= 0.3
    maps.line([(750, TOP + 2), (750, TOP + 25)], width=2)

    plants = maps.find()

    assert [round(p.anchor[0]) for p in plants] == list(XS)
    assert dist(plants[-1].tip, (750, TOP + 25)) <= 2.0
    assert all(p.tip is not None and p.tip[0] > 100 for p in plants)


def test_a_wall_given_as_the_dish_box_is_respected_inside_bigger_maps(make_maps):
    maps = make_maps(600, 900)
    for x in (150, 300, 450):
        maps.seedling(x, TOP)

    inside = find_plants(maps.shoot, maps.seed, dish_bbox=(130.0, 0.0, 900.0, 600.0))

    assert [round(p.x) for p in inside] == [300, 450]


def test_a_split_seedling_is_one_plant_and_the_next_seedling_is_still_found(seedling_row, dist):
    maps = seedling_row()
    # Plant 2's leaves broken off 4 mm above its hypocotyl and seed.
    maps.shoot[TOP - 30 : TOP - 3, 280:320] = 0.0
    maps.line([(300, TOP - 3), (300, TOP - 12)], width=3, layer="shoot")
    maps.line([(290, TOP - 55), (310, TOP - 55)], width=8, layer="shoot")

    plants = maps.find()

    assert [round(p.anchor[0]) for p in plants] == list(XS)
    tips = [p.tip for p in plants]
    assert dist(tips[1], (300, TOP + 500)) <= 2.0
    assert min(dist(a, b) for i, a in enumerate(tips) for b in tips[i + 1 :]) > 50


def test_a_lateral_ending_lower_than_a_faint_primary_tip_is_not_taken_or_not_trusted(
    make_maps, dist
):
    maps = make_maps()
    maps.seedling(300, TOP)
    maps.line([(300, TOP + 2), (300, TOP + 400)], width=4)
    maps.line([(300, TOP + 400), (300, TOP + 600)], width=3, value=0.4)  # fading primary
    maps.line([(300, TOP + 250), (420, TOP + 450), (440, TOP + 720)], width=2)

    (plant,) = maps.find(expected_plants=1)

    on_primary = dist(plant.tip, (300, TOP + 600)) <= 2.0
    assert on_primary or plant.tip_confidence < 0.5


def test_a_fading_stretch_of_root_is_followed_to_the_true_tip(make_maps, dist):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 602)], width=3)
    maps.root[TOP + 250 : TOP + 330] *= 0.42  # 8 mm at 0.4: too long a gap to bridge

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (400, TOP + 602)) <= 2.0


def test_a_fading_tip_is_carried_to_where_the_map_ends(make_maps, dist):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 500)], width=3)
    maps.line([(400, TOP + 500), (400, TOP + 540)], width=3, value=0.4)

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (400, TOP + 540)) <= 2.0


def test_a_shallow_crossing_keeps_each_plants_own_tip_or_doubts_the_cut_one(make_maps, dist):
    maps = make_maps(1000, 900)
    maps.seedling(300, TOP)
    maps.seedling(400, TOP)
    # Plant 1 slants 14 degrees and touches plant 2's root at about y = 500.
    maps.line([(300, TOP + 2), (400, TOP + 400), (430, TOP + 520)], width=3)
    maps.line([(400, TOP + 2), (400, TOP + 800)], width=3)

    left, right = maps.find(expected_plants=2)

    assert dist(right.tip, (400, TOP + 800)) <= 2.0
    # Cut where the roots meet is allowed only as a doubtful tip.
    assert dist(left.tip, (430, TOP + 520)) <= 3.0 or left.tip_confidence < 0.5


def test_a_shoot_without_its_own_root_makes_its_neighbours_less_sure(seedling_row):
    maps = seedling_row()
    clean = {p.plant: p.tip_confidence for p in maps.find()}
    maps.root[:, 400:500] = 0.0  # plant 3 has no root

    plants = maps.find()

    assert plants[2].tip is None
    for p in (plants[1], plants[3]):
        assert p.components["tip_neighbour"] < 1.0
        assert p.tip_confidence < clean[p.plant]
    assert plants[0].components["tip_neighbour"] == 1.0


def test_a_tiny_plant_is_not_a_confident_tip(make_maps):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 20)], width=2)  # a 2 mm root

    (plant,) = maps.find(expected_plants=1)

    assert plant.tip is not None
    assert plant.components["tip_size"] < 0.7
    assert plant.tip_confidence < 0.8


def test_fewer_plants_than_sown_lowers_every_tip(seedling_row):
    maps = seedling_row()

    four = maps.find(expected_plants=6)

    assert all(p.components["tip_count"] == COUNT_FACTOR for p in four)
    assert count_factor(5, 5) == 1.0


def test_a_plant_off_the_evenly_spaced_row_is_doubted():
    even = row_factors([(100.0, 50.0), (350.0, 50.0), (600.0, 50.0), (850.0, 50.0)], 10.0)
    squeezed = row_factors([(100.0, 50.0), (350.0, 50.0), (420.0, 50.0), (850.0, 50.0)], 10.0)
    gap = row_factors([(100.0, 50.0), (350.0, 50.0), (850.0, 50.0), (1100.0, 50.0)], 10.0)
    low = row_factors([(100.0, 50.0), (350.0, 150.0), (600.0, 50.0)], 10.0)

    assert even == pytest.approx([1.0] * 4)
    assert squeezed[2] < 0.8
    assert gap == pytest.approx([1.0] * 4)  # a missing plant leaves a double gap
    assert low[1] < 0.7
    assert low[0] == 1.0


def test_a_bad_faint_threshold_is_refused(seedling_row):
    maps = seedling_row()

    with pytest.raises(ValueError, match="faint_threshold"):
        maps.find(faint_threshold=0.8)
    assert np.isfinite(maps.find(faint_threshold=0.5)[0].tip_confidence)
