"""generate_plate: determinism, mask contract, and ground truth that matches the pixels."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import cv2
import numpy as np
import pytest

from visionkit.synth import MASK_NAMES, SynthConfig, SynthPlate, generate_plate
from visionkit.synth.generator import plate_rng


def _present(plate: SynthPlate) -> list[dict[str, Any]]:
    return [p for p in plate.landmarks["plants"] if p["present"]]


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Per pixel, the distance to the nearest set pixel of ``mask``."""
    return cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, 5)


def _agar_median(plate: SynthPlate) -> float:
    x0, y0, x1, y1 = plate.dish_bbox
    h, w = y1 - y0, x1 - x0
    return float(
        np.median(plate.image[y0 + h // 2 : y0 + 3 * h // 4, x0 + w // 4 : x0 + 3 * w // 4])
    )


def test_same_seed_gives_the_same_bytes(small_config: SynthConfig) -> None:
    a = generate_plate(5, small_config, index=2)
    b = generate_plate(5, small_config, index=2)
    assert a.image.tobytes() == b.image.tobytes()
    for name in MASK_NAMES:
        assert np.array_equal(a.masks[name], b.masks[name])
    assert a.landmarks == b.landmarks
    assert a.name == b.name


def test_other_seeds_and_indices_give_other_plates(small_config: SynthConfig) -> None:
    base = generate_plate(5, small_config, index=0)
    other_seed = generate_plate(6, small_config, index=0)
    other_index = generate_plate(5, small_config, index=1)
    assert not np.array_equal(base.image, other_seed.image)
    assert not np.array_equal(base.image, other_index.image)
    assert base.name != other_index.name


def test_masks_are_binary_and_image_sized(small_config: SynthConfig) -> None:
    plate = generate_plate(1, small_config)
    assert plate.image.dtype == np.uint8
    assert plate.image.shape == (small_config.height, small_config.width)
    assert set(plate.masks) == set(MASK_NAMES)
    for name, mask in plate.masks.items():
        assert mask.dtype == np.uint8, name
        assert mask.shape == plate.image.shape, name
        assert set(np.unique(mask).tolist()) <= {0, 1}, name
    assert plate.masks["root"].any()
    assert plate.masks["shoot"].any()
    assert plate.masks["seed"].any()


def test_roots_are_darker_than_the_agar(half_plate: SynthPlate) -> None:
    agar = _agar_median(half_plate)
    root = half_plate.masks["root"].astype(bool)
    # Median over all root pixels, tips included, is clearly below the agar...
    assert float(np.median(half_plate.image[root])) < agar - 8
    # ...and the faintest tenth still sits below it (faint tips stay visible).
    assert float(np.percentile(half_plate.image[root], 90)) < agar


def test_start_and_tip_lie_on_the_root(half_plate: SynthPlate) -> None:
    roots = half_plate.masks["root"] | half_plate.masks["occluded_root"]
    distance = _distance_to(roots)
    plants = _present(half_plate)
    assert plants
    for plant in plants:
        for key in ("start", "tip"):
            x, y = round(plant[key]["x"]), round(plant[key]["y"])
            assert distance[y, x] <= 2.0, (plant["plant"], key, distance[y, x])


def test_the_tip_is_where_the_primary_root_ends(half_plate: SynthPlate) -> None:
    for plant in _present(half_plate):
        path = np.array(plant["primary_root_path"])
        assert path[0].tolist() == [plant["start"]["x"], plant["start"]["y"]]
        assert path[-1].tolist() == [plant["tip"]["x"], plant["tip"]["y"]]
        # Roots grow down: the tip is below the start.
        assert plant["tip"]["y"] > plant["start"]["y"]


def test_length_is_the_arc_length_of_the_path(half_plate: SynthPlate) -> None:
    mm_per_px = half_plate.landmarks["dish"]["mm_per_px"]
    for plant in _present(half_plate):
        path = np.array(plant["primary_root_path"])
        arc = float(np.hypot(*np.diff(path, axis=0).T).sum())
        assert plant["primary_root_length_px"] == pytest.approx(arc, abs=0.5)
        assert plant["primary_root_length_mm"] == pytest.approx(arc * mm_per_px, rel=1e-3)
        steps = np.hypot(*np.diff(path, axis=0).T)
        # One point about every 0.3 mm (about 6 px at full Hades resolution).
        assert np.all(steps[:-1] * mm_per_px == pytest.approx(0.3, abs=0.02))


def test_plants_are_numbered_left_to_right(
    half_plate: SynthPlate, half_config: SynthConfig
) -> None:
    plants = half_plate.landmarks["plants"]
    assert [p["plant"] for p in plants] == list(range(1, half_config.n_plants + 1))
    starts = [p["start"]["x"] for p in plants if p["present"]]
    assert starts == sorted(starts)


def test_missing_plants_are_listed_with_a_reason(small_config: SynthConfig) -> None:
    config = replace(small_config, p_missing_plant=1.0)
    plate = generate_plate(2, config)
    plants = plate.landmarks["plants"]
    assert len(plants) == config.n_plants
    for plant in plants:
        assert plant["present"] is False
        assert plant["reason"] in {"missing plant", "seed did not germinate"}
        assert "tip" not in plant
    assert not plate.masks["root"].any()
    assert not plate.masks["shoot"].any()


def test_late_plants_are_tiny(small_config: SynthConfig) -> None:
    plate = generate_plate(4, replace(small_config, p_late_plant=1.0, p_missing_plant=0.0))
    for plant in plate.landmarks["plants"]:
        assert "late_plant" in plant["hard_cases"]
        assert plant["primary_root_length_mm"] < 3.5


def test_roots_under_droplets_are_occluded_not_root(half_config: SynthConfig) -> None:
    config = replace(half_config, p_under_droplet=1.0, p_missing_plant=0.0, p_late_plant=0.0)
    plate = generate_plate(3, config)
    root, occluded = plate.masks["root"].astype(bool), plate.masks["occluded_root"].astype(bool)
    assert occluded.any()
    assert not (root & occluded).any()
    labelled = [p for p in plate.landmarks["plants"] if "under_droplet" in p["hard_cases"]]
    assert labelled
    near_occlusion = _distance_to(plate.masks["occluded_root"])
    for plant in labelled:
        path = np.round(np.array(plant["primary_root_path"])).astype(int)
        assert near_occlusion[path[:, 1], path[:, 0]].min() <= 1.5


def test_occluded_root_never_overlaps_root(small_config: SynthConfig) -> None:
    for seed in range(3):
        plate = generate_plate(seed, small_config)
        assert not (plate.masks["root"] & plate.masks["occluded_root"]).any()


def test_a_lateral_can_end_below_the_primary_tip(half_config: SynthConfig) -> None:
    config = replace(half_config, p_lateral_below_tip=1.0, p_missing_plant=0.0, p_late_plant=0.0)
    plate = generate_plate(8, config)
    labelled = [p for p in plate.landmarks["plants"] if "lateral_below_tip" in p["hard_cases"]]
    assert labelled
    rows = np.nonzero(plate.masks["root"].any(axis=1))[0]
    deepest_root_row = int(rows.max())
    assert deepest_root_row > min(p["tip"]["y"] for p in labelled)


def test_crossing_neighbours_are_labelled_in_pairs(half_config: SynthConfig) -> None:
    config = replace(half_config, p_crossing=1.0, p_missing_plant=0.0, p_late_plant=0.0)
    found = False
    for seed in range(4):
        plants = generate_plate(seed, config).landmarks["plants"]
        crossing = [p["plant"] for p in plants if "crosses_neighbour" in p["hard_cases"]]
        if crossing:
            found = True
            # Every labelled plant has a labelled neighbour.
            assert all(n - 1 in crossing or n + 1 in crossing for n in crossing)
    assert found


def test_dish_bbox_and_scale_are_plausible(small_config: SynthConfig) -> None:
    plate = generate_plate(0, small_config)
    x0, y0, x1, y1 = plate.dish_bbox
    assert 0 <= x0 < x1 <= small_config.width
    assert 0 <= y0 < y1 <= small_config.height
    side_mm = (y1 - y0) * plate.landmarks["dish"]["mm_per_px"]
    assert 125.0 < side_mm < 140.0
    # The dark surround outside the dish, bright agar inside.
    assert plate.image[:, : max(1, x0 - 2)].mean() < 80
    assert _agar_median(plate) > 150


def test_cropped_plate_shifts_every_coordinate(half_plate: SynthPlate) -> None:
    crop = half_plate.cropped()
    x0, y0, x1, y1 = half_plate.dish_bbox
    assert crop.image.shape == (y1 - y0, x1 - x0)
    assert np.array_equal(crop.image, half_plate.image[y0:y1, x0:x1])
    assert crop.landmarks["dish"]["bbox"] == [0, 0, x1 - x0, y1 - y0]
    assert (crop.landmarks["width"], crop.landmarks["height"]) == (x1 - x0, y1 - y0)
    distance = _distance_to(crop.masks["root"] | crop.masks["occluded_root"])
    for full, cut in zip(half_plate.landmarks["plants"], crop.landmarks["plants"], strict=True):
        if not full["present"]:
            continue
        assert cut["tip"]["x"] == pytest.approx(full["tip"]["x"] - x0, abs=0.01)
        assert cut["tip"]["y"] == pytest.approx(full["tip"]["y"] - y0, abs=0.01)
        assert distance[round(cut["tip"]["y"]), round(cut["tip"]["x"])] <= 2.0
        assert cut["primary_root_path"][0] == [cut["start"]["x"], cut["start"]["y"]]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 32}, "too small"),
        ({"px_per_mm": 0.0}, "positive"),
        ({"px_per_mm": 40.0}, "does not fit"),
        ({"n_plants": 0}, "n_plants"),
        ({"p_crossing": 1.5}, "probability"),
        ({"agar_grey": (200.0, 100.0)}, "low, high"),
    ],
)
def test_bad_configs_say_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SynthConfig(**changes)


def test_scaled_config_keeps_the_plate_in_millimetres() -> None:
    full = SynthConfig()
    half = full.scaled(0.5)
    assert (half.width, half.height) == (2101, 1503)
    assert half.px_per_mm == pytest.approx(full.px_per_mm / 2)
    assert math.isclose(half.dish_mm, full.dish_mm)
    with pytest.raises(ValueError, match="positive"):
        full.scaled(0)


def test_negative_seeds_are_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        plate_rng(-1, 0)
