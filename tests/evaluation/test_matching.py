"""Predicted plants are paired with the right true plants, whatever their numbers."""

from __future__ import annotations

import pytest

from visionkit.evaluation import PlantPoints, match_plants
from visionkit.evaluation.matching import anchor_distance
from visionkit.prediction import Keypoint, Plant


def _plant(number: int, x: float, *, tip: bool = True) -> PlantPoints:
    return PlantPoints(
        plant=number,
        start=(x, 100.0),
        tip=(x, 400.0) if tip else None,
        tip_confidence=0.9 if tip else None,
        length_px=300.0,
    )


def test_a_missing_and_a_spurious_plant_do_not_shift_the_pairs() -> None:
    truth = [_plant(1, 100), _plant(2, 200), _plant(3, 300), _plant(4, 400)]
    # plant 2 was missed; a speck at x=600 was taken for a plant
    predicted = [_plant(1, 104), _plant(2, 297), _plant(3, 402), _plant(4, 600)]
    matching = match_plants(truth, predicted, max_distance_px=50)
    assert [(p.truth.plant, p.predicted.plant) for p in matching.pairs] == [(1, 1), (3, 2), (4, 3)]
    assert [p.plant for p in matching.missed] == [2]
    assert [p.plant for p in matching.spurious] == [4]
    assert matching.pairs[0].distance_px == pytest.approx(4.0)


def test_the_assignment_minimises_the_total_distance() -> None:
    truth = [_plant(1, 100), _plant(2, 130)]
    predicted = [_plant(1, 118), _plant(2, 150)]
    # greedy would give truth 2 to prediction 1 (12 px) and leave truth 1 with 50 px
    matching = match_plants(truth, predicted, max_distance_px=60)
    assert [(p.truth.plant, p.predicted.plant) for p in matching.pairs] == [(1, 1), (2, 2)]


def test_plants_without_starts_are_compared_by_tip() -> None:
    a = PlantPoints(1, None, (10.0, 10.0))
    b = PlantPoints(1, (0.0, 0.0), (13.0, 14.0))
    assert anchor_distance(a, b) == pytest.approx(5.0)
    assert anchor_distance(PlantPoints(1, None, None), b) == float("inf")


def test_nothing_to_match() -> None:
    truth = [_plant(1, 100)]
    assert match_plants(truth, [], max_distance_px=10).missed == truth
    assert match_plants([], truth, max_distance_px=10).spurious == truth
    with pytest.raises(ValueError, match="positive"):
        match_plants(truth, truth, max_distance_px=0)


def test_truth_records_and_contract_plants_become_points() -> None:
    record = {
        "plant": 2,
        "present": True,
        "start": {"x": 1, "y": 2},
        "tip": {"x": 3, "y": 4},
        "primary_root_length_px": 12.5,
    }
    points = PlantPoints.from_truth(record)
    assert points == PlantPoints(2, (1.0, 2.0), (3.0, 4.0), None, 12.5)
    assert PlantPoints.from_truth({"plant": 3, "present": False}) is None
    assert PlantPoints.from_truth({"plant": 3, "start": None, "tip": None}) is None

    plant = Plant(1, Keypoint(5, 6, 0.7), Keypoint(1, 2, 0.9), primary_root_length_px=4.0)
    converted = PlantPoints.from_plant(plant)
    assert converted is not None
    assert converted.tip == (5.0, 6.0)
    assert converted.tip_confidence == 0.7
    assert PlantPoints.from_plant(Plant(2, None, None, reason="no seedling")) is None
    no_tip = PlantPoints.from_plant(Plant(3, None, Keypoint(1, 2, 0.5)))
    assert no_tip is not None
    assert no_tip.tip is None
    assert no_tip.tip_confidence is None
