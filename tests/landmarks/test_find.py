"""find_landmarks on hand-drawn maps: the failure modes seen on real plates, one by one."""

from __future__ import annotations

import time

import numpy as np
import pytest

from visionkit.landmarks import NO_ROOT, find_landmarks

XS = (150, 300, 450, 600, 750)
TOP = 100


def _straight_plate(make_maps, lengths=(400, 500, 600, 450, 350)):
    maps = make_maps()
    for x, length in zip(XS, lengths, strict=True):
        maps.seedling(x, TOP)
        maps.line([(x, TOP + 2), (x, TOP + length)], width=3)
    return maps


def test_five_straight_roots_give_five_plants_left_to_right_with_their_tips(make_maps, dist):
    lengths = (400, 500, 600, 450, 350)
    plants = _straight_plate(make_maps, lengths).find()

    assert [p.plant for p in plants] == [1, 2, 3, 4, 5]
    for p, x, length in zip(plants, XS, lengths, strict=True):
        assert dist(p.tip, (x, TOP + length)) <= 2.0
        assert dist(p.start, (x, TOP)) <= 5.0  # half a millimetre
        assert p.length_px == pytest.approx(length, rel=0.02)
        assert p.reason is None
        assert p.path[0] == pytest.approx(p.start)
        assert p.path[-1] == pytest.approx(p.tip)
        assert 0.9 <= p.tip_confidence <= 1.0
        assert 0.9 <= p.start_confidence <= 1.0


def test_a_lateral_ending_below_the_primary_tip_is_not_taken_for_the_tip(make_maps, dist):
    maps = make_maps()
    maps.seedling(300, TOP)
    maps.line([(300, TOP + 2), (300, TOP + 600)], width=4)
    # Branches 400 px down, runs diagonally and ends 150 px deeper than the primary.
    maps.line([(300, TOP + 400), (550, TOP + 750)], width=2)

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (300, TOP + 600)) <= 2.0
    assert plant.length_px == pytest.approx(598, rel=0.02)


def test_a_lateral_that_turns_down_beside_the_primary_is_not_taken_either(make_maps, dist):
    maps = make_maps()
    maps.seedling(300, TOP)
    maps.line([(300, TOP + 2), (300, TOP + 500)], width=3)
    # Leaves at about 35 degrees, then bends down and ends 60 px deeper.
    maps.line([(300, TOP + 300), (340, TOP + 360), (370, TOP + 420), (380, TOP + 560)], width=2)

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (300, TOP + 500)) <= 2.0
    assert plant.components["tip_decisive"] < 0.95  # a real competitor was seen


def test_a_root_broken_twice_is_bridged_to_its_true_end(make_maps, dist):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 602)], width=3)
    maps.root[TOP + 250 : TOP + 265] = 0.0  # two 15-px gaps (faint stretches)
    maps.root[TOP + 420 : TOP + 435] = 0.2

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (400, TOP + 602)) <= 2.0
    assert plant.length_px == pytest.approx(600, rel=0.03)


def test_a_gap_wider_than_max_gap_is_not_bridged(make_maps, dist):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 602)], width=3)
    maps.root[TOP + 300 : TOP + 360] = 0.0  # 6 mm

    (plant,) = maps.find(expected_plants=1, max_gap_mm=3.0)

    assert dist(plant.tip, (400, TOP + 299)) <= 3.0


def test_a_gap_beside_the_roots_direction_is_not_bridged(make_maps, dist):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 300)], width=3)
    maps.line([(420, TOP + 305), (420, TOP + 600)], width=3)  # 20 px to the side, 5 px lower

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (400, TOP + 300)) <= 3.0


def test_a_root_under_a_droplet_connects_through_the_occluded_map(make_maps, dist):
    maps = make_maps()
    maps.seedling(400, TOP)
    maps.line([(400, TOP + 2), (400, TOP + 600)], width=3)
    maps.root[TOP + 280 : TOP + 340] = 0.0  # 6 mm under a droplet: too far to bridge
    maps.line([(400, TOP + 275), (400, TOP + 345)], width=3, layer="occluded")

    (plant,) = maps.find(expected_plants=1)

    assert dist(plant.tip, (400, TOP + 600)) <= 2.0


def test_crossing_roots_keep_their_own_tips(make_maps, dist):
    maps = make_maps()
    maps.seedling(300, TOP)
    maps.seedling(450, TOP)
    # Plant 1 slants across plant 2's root; plant 2's root goes on deeper.
    maps.line([(300, TOP + 2), (600, TOP + 602)], width=3)
    maps.line([(450, TOP + 2), (450, TOP + 700)], width=3)

    left, right = maps.find(expected_plants=2)

    assert dist(left.tip, (600, TOP + 602)) <= 3.0
    assert dist(right.tip, (450, TOP + 700)) <= 2.0
    assert left.length_px == pytest.approx(np.hypot(300, 600), rel=0.03)


def test_a_shallow_crossing_where_the_other_root_is_much_longer(make_maps, dist):
    maps = make_maps(1000, 900)
    maps.seedling(300, TOP)
    maps.seedling(450, TOP)
    # Plant 1 crosses late, near its own tip; plant 2's root is far longer.
    maps.line([(300, TOP + 2), (300, TOP + 300), (500, TOP + 700)], width=3)
    maps.line([(450, TOP + 2), (450, TOP + 850)], width=3)

    left, right = maps.find(expected_plants=2)

    assert dist(right.tip, (450, TOP + 850)) <= 2.0
    assert dist(left.tip, (500, TOP + 700)) <= 3.0


def test_a_plant_without_root_is_listed_with_a_reason(make_maps, dist):
    maps = _straight_plate(make_maps)
    maps.root[:, 400:500] = 0.0  # plant 3 (x = 450) loses its root

    plants = maps.find()

    assert len(plants) == 5
    third = plants[2]
    assert third.tip is None
    assert third.start is None
    assert third.reason == NO_ROOT
    assert third.length_px is None
    assert third.tip_confidence == 0.0
    assert third.path.shape == (0, 2)
    assert dist(third.anchor, (450, TOP)) <= 2.0
    assert all(p.tip is not None for i, p in enumerate(plants) if i != 2)


def test_a_missing_plant_leaves_four_plants_numbered_left_to_right(make_maps):
    maps = _straight_plate(make_maps)
    maps.shoot[:, 250:350] = 0.0
    maps.seed[:, 250:350] = 0.0
    maps.root[:, 250:350] = 0.0

    plants = maps.find()

    assert [p.plant for p in plants] == [1, 2, 3, 4]
    assert [round(p.anchor[0]) for p in plants] == [150, 450, 600, 750]


def test_false_positives_far_from_the_seedlings_are_neither_roots_nor_plants(make_maps, dist):
    lengths = (400, 500, 600, 450, 350)
    maps = _straight_plate(make_maps, lengths)
    maps.line([(40, 820), (860, 790)], width=4)  # a dark streak low on the plate
    maps.line([(200, 200), (260, 230)], width=2)  # a fibre between plants, away from roots
    rng = np.random.default_rng(0)
    for _ in range(40):  # specks of "shoot" and "root" all over
        x, y = (int(v) for v in rng.integers(30, 870, 2))
        maps.root[y : y + 2, x : x + 2] = 0.9
        maps.shoot[y + 1, x + 1] = 0.9
    import cv2

    cv2.circle(maps.root, (700, 600), 20, 0.9, 2)  # a bubble's ring
    cv2.circle(maps.root, (380, 700), 20, 0.9, 2)

    plants = maps.find()

    assert len(plants) == 5
    for p, x, length in zip(plants, XS, lengths, strict=True):
        assert dist(p.tip, (x, TOP + length)) <= 2.0


def test_more_candidates_than_expected_keeps_the_heaviest_in_the_row(make_maps):
    maps = _straight_plate(make_maps)
    import cv2

    cv2.circle(maps.shoot, (820, TOP - 10), 3, 0.9, -1)  # a small sixth blob in the row
    cv2.circle(maps.shoot, (450, 800), 25, 0.9, -1)  # a big "shoot" far below the row

    plants = maps.find()

    assert [round(p.anchor[0]) for p in plants] == list(XS)


def test_without_a_seed_map_the_root_starts_at_the_shoot_bottom(make_maps, dist):
    maps = _straight_plate(make_maps)

    plants = find_landmarks(maps.root, maps.shoot, None).plants

    assert len(plants) == 5
    assert all(dist(p.start, (x, TOP)) <= 4.0 for p, x in zip(plants, XS, strict=True))


def test_a_seed_coat_high_beside_a_long_hypocotyl_still_finds_the_root(make_maps, dist):
    """Seen on the real plate: the seed's centroid is millimetres above the root's start."""
    maps = make_maps()
    maps.seedling(300, TOP, seed=False)
    maps.line([(300, TOP), (300, TOP + 70)], width=3, layer="shoot")  # long hypocotyl
    maps.line([(306, TOP + 8), (310, TOP + 12)], width=6, layer="seed")  # coat on its side
    maps.line([(300, TOP + 73), (300, TOP + 500)], width=3)

    (plant,) = maps.find(expected_plants=1)

    assert plant.reason is None
    assert dist(plant.start, (300, TOP + 73)) <= 5.0
    assert dist(plant.tip, (300, TOP + 500)) <= 2.0


def test_an_arc_shaped_root_measures_its_true_length(make_maps, arc):
    maps = make_maps()
    maps.seedling(300, TOP)
    points = arc((600, TOP), 300, np.pi, np.pi / 2)  # quarter circle from (300, TOP) down-right
    maps.line(points, width=3)

    (plant,) = maps.find(expected_plants=1)

    assert plant.length_px == pytest.approx(np.pi / 2 * 300, rel=0.02)
    assert plant.length_mm(10.0) == pytest.approx(plant.length_px / 10.0)


def test_no_shoot_no_plants(make_maps):
    maps = make_maps(200, 200)
    maps.line([(100, 10), (100, 190)])

    assert maps.find() == []


def test_faint_tips_are_less_confident_than_clear_ones(make_maps):
    maps = make_maps()
    for x in (300, 500):
        maps.seedling(x, TOP)
        maps.line([(x, TOP + 2), (x, TOP + 500)], width=3)
    maps.root[TOP + 470 :, 480:520] *= 0.6  # the last 3 mm of plant 2 are faint

    clear, faint = maps.find(expected_plants=2)

    assert faint.components["tip_prob"] < clear.components["tip_prob"]
    assert faint.tip_confidence < clear.tip_confidence


def test_tip_agreement_spread_lowers_confidence(make_maps):
    maps = make_maps()
    tips = []
    for x in (200, 400, 600):
        maps.seedling(x, TOP)
        maps.line([(x, TOP + 2), (x, TOP + 500)], width=3)
        tips.append((x, TOP + 500))
    agree = [(200.0, TOP + 501.0), (201.0, TOP + 499.0), (399.0, TOP + 485.0), (415.0, TOP + 510.0)]

    first, second, third = maps.find(expected_plants=3, tip_agreement=agree)

    assert first.components["tip_agreement"] > 0.95
    assert second.components["tip_agreement"] < 0.5
    assert third.components["tip_agreement"] == 0.0
    assert first.tip_confidence > second.tip_confidence > third.tip_confidence


def test_every_confidence_and_component_is_between_zero_and_one(make_maps):
    maps = _straight_plate(make_maps)
    maps.line([(300, 400), (420, 560)], width=2)  # a lateral
    maps.root[TOP + 300 : TOP + 310, 440:460] = 0.0  # a gap

    plants = maps.find(tip_agreement=[(150.0, 500.0)])

    for p in plants:
        assert 0.0 <= p.start_confidence <= 1.0
        assert 0.0 <= p.tip_confidence <= 1.0
        assert all(0.0 <= v <= 1.0 for v in p.components.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expected_plants": 0}, "expected_plants"),
        ({"px_per_mm": 0.0}, "px_per_mm"),
    ],
)
def test_bad_parameters_are_refused(make_maps, kwargs, message):
    maps = make_maps(100, 100)
    with pytest.raises(ValueError, match=message):
        maps.find(**kwargs)


def test_maps_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match=r"shoot_prob has shape \(50, 60\)"):
        find_landmarks(np.zeros((50, 50)), np.zeros((50, 60)))
    with pytest.raises(ValueError, match="2-D"):
        find_landmarks(np.zeros((50, 50, 3)), np.zeros((50, 50)))


def test_a_working_scale_dish_takes_well_under_a_second(make_maps):
    maps = make_maps(1350, 1350)
    rng = np.random.default_rng(1)
    for i, x in enumerate(range(250, 1250, 200)):
        maps.seedling(x, 200)
        tip_y = 900 + 60 * i
        maps.line([(x, 202), (x + 20, 600), (x - 10, tip_y)], width=3)
        for y in range(350, tip_y - 100, 90):  # laterals
            side = 1 if rng.random() < 0.5 else -1
            maps.line([(x, y), (x + side * 80, y + 70)], width=2)

    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        plants = maps.find()
        best = min(best, time.perf_counter() - began)

    assert len(plants) == 5
    assert best < 0.5  # about 30 ms here; the target is 150 ms on one core


def test_plant_root_mask_keeps_the_plants_roots_and_drops_far_debris(make_maps):
    from visionkit.landmarks import plant_root_mask

    maps = _straight_plate(make_maps)
    maps.line([(150, TOP + 420), (150, TOP + 440)], width=3)  # plant 1's root, broken off
    maps.line([(820, 700), (880, 860)], width=2)  # a fibre far from every plant
    maps.line([(20, 40), (120, 45)], width=2)  # a scratch above the row

    kept = plant_root_mask(maps.root, maps.shoot, maps.seed, occluded_prob=maps.occluded)

    assert kept.dtype == bool
    assert kept.shape == maps.root.shape
    for x in XS:
        assert kept[TOP + 200, x - 1 : x + 2].all()  # every plant's root
    assert kept[TOP + 430, 150]  # the broken-off piece, within the bridged gap
    assert not kept[780, 850]  # the fibre
    assert not kept[42, 70]  # the scratch
    assert not kept[maps.root < 0.5].any()  # nothing that is not root


def test_plant_root_mask_without_plants_keeps_nothing(make_maps):
    from visionkit.landmarks import plant_root_mask

    maps = make_maps()
    maps.line([(300, 100), (300, 500)], width=3)
    assert not plant_root_mask(maps.root, maps.shoot, maps.seed).any()


def test_find_landmarks_returns_the_root_pixels_it_searched(make_maps):
    from visionkit.landmarks import plant_root_mask

    maps = _straight_plate(make_maps)
    maps.line([(820, 700), (880, 860)], width=2)  # a fibre far from every plant

    found = find_landmarks(maps.root, maps.shoot, maps.seed, occluded_prob=maps.occluded)

    assert len(found.plants) == 5
    assert found.root_support.dtype == bool
    assert not found.root_support[780, 850]  # the fibre is not the plants' root
    assert np.array_equal(
        found.root_support,
        plant_root_mask(maps.root, maps.shoot, maps.seed, occluded_prob=maps.occluded),
    )


def test_without_plants_the_root_support_is_empty_at_the_maps_size(make_maps):
    maps = make_maps(height=400, width=500)
    maps.line([(300, 100), (300, 350)], width=3)  # a root-like streak, no seedling

    found = find_landmarks(maps.root, maps.shoot, maps.seed)

    assert found.plants == []
    assert found.root_support.shape == (400, 500)
    assert not found.root_support.any()
