"""Tip/start errors, the share within 1 mm, sMAPE and confident tips on known cases."""

from __future__ import annotations

import math

import pytest

from visionkit.evaluation import PlantPoints, match_plants, plant_errors, smape, summarize_landmarks


def _truth(number: int, x: float, length: float = 300.0) -> PlantPoints:
    return PlantPoints(number, (x, 100.0), (x, 400.0), length_px=length)


def _shifted(
    truth: PlantPoints, dx: float, dy: float, confidence: float = 0.9, length: float | None = None
) -> PlantPoints:
    assert truth.tip is not None
    assert truth.start is not None
    return PlantPoints(
        truth.plant,
        truth.start,
        (truth.tip[0] + dx, truth.tip[1] + dy),
        tip_confidence=confidence,
        length_px=truth.length_px if length is None else length,
    )


def test_a_tip_shifted_by_k_pixels_is_k_pixels_off() -> None:
    truth = [_truth(1, 100)]
    predicted = [_shifted(truth[0], 3, 4)]
    (error,) = plant_errors(
        match_plants(truth, predicted, max_distance_px=50), image="p.png", mm_per_px=0.05
    )
    assert error.tip_error_px == pytest.approx(5.0)
    assert error.tip_error_mm == pytest.approx(0.25)
    assert error.start_error_px == 0.0
    assert error.within_tolerance is True
    assert error.to_dict()["image"] == "p.png"


def test_the_tolerance_decides_within_and_missing_scale_leaves_it_open() -> None:
    truth = [_truth(1, 100)]
    predicted = [_shifted(truth[0], 0, 21)]
    matching = match_plants(truth, predicted, max_distance_px=50)
    (far,) = plant_errors(matching, image="p", mm_per_px=0.05)
    assert far.tip_error_mm == pytest.approx(1.05)
    assert far.within_tolerance is False
    (unknown,) = plant_errors(matching, image="p", mm_per_px=None)
    assert unknown.tip_error_px == pytest.approx(21.0)
    assert unknown.tip_error_mm is None
    assert unknown.within_tolerance is None


def test_smape_of_known_lengths() -> None:
    # |110 - 100| / 105 = 9.5238 %, |50 - 50| = 0, |0 - 0| counts as exact
    assert smape([110.0, 50.0], [100.0, 50.0]) == pytest.approx(100 * (10 / 105) / 2)
    assert smape([0.0], [0.0]) == 0.0
    assert smape([0.0], [10.0]) == pytest.approx(200.0)
    assert math.isnan(smape([], []))
    with pytest.raises(ValueError, match="lengths"):
        smape([1.0], [1.0, 2.0])


def test_summary_counts_missed_and_spurious_plants_as_failures() -> None:
    truth = [_truth(1, 100), _truth(2, 200), _truth(3, 300), _truth(4, 400)]
    predicted = [
        _shifted(truth[0], 0, 4, confidence=0.95, length=330.0),  # 0.2 mm, confident
        _shifted(truth[2], 0, 40, confidence=0.85),  # 2 mm, confident but wrong
        _shifted(truth[3], 0, 10, confidence=0.3),  # 0.5 mm, unsure
        PlantPoints(9, (700.0, 100.0), (700.0, 300.0), tip_confidence=0.9),  # spurious
    ]
    matching = match_plants(truth, predicted, max_distance_px=50)
    errors = plant_errors(matching, image="p", mm_per_px=0.05)
    summary = summarize_landmarks(
        errors, spurious_confidences=[p.tip_confidence for p in matching.spurious]
    )
    assert (summary.n_truth, summary.n_matched, summary.n_missed) == (4, 3, 1)
    assert summary.n_spurious == 1
    assert summary.n_predicted == 4
    # plants 1 and 4 within 1 mm, 3 too far, 2 missed: 2 of 4
    assert summary.tips_within_tolerance == pytest.approx(0.5)
    # confident tips: plant 1 (right), plant 3 (wrong), the spurious one (wrong)
    assert summary.n_confident_tips == 3
    assert summary.confident_within_tolerance == pytest.approx(1 / 3)
    assert summary.confident_coverage == pytest.approx(1 / 4)
    assert summary.tip_error_px.count == 3
    assert summary.tip_error_px.median == pytest.approx(10.0)
    assert summary.tip_error_mm.max == pytest.approx(2.0)
    # lengths: 330 vs 300 and two exact ones
    assert summary.length_smape == pytest.approx(100 * (30 / 315) / 3)
    top = summary.confidence_bins[-1]
    assert (top.low, top.high, top.count) == (0.8, 1.0, 2)
    assert top.within_tolerance == pytest.approx(0.5)
    assert summary.confidence_bins[1].count == 1
    assert summary.confidence_bins[1].within_tolerance == 1.0
    as_dict = summary.to_dict()
    assert as_dict["confidence_bins"][0]["within_tolerance"] is None
    assert as_dict["start_error_mm"]["mean"] == 0.0


def test_a_matched_plant_without_a_tip_is_counted() -> None:
    truth = [_truth(1, 100)]
    predicted = [PlantPoints(1, (100.0, 101.0), None)]
    errors = plant_errors(
        match_plants(truth, predicted, max_distance_px=50), image="p", mm_per_px=0.1
    )
    summary = summarize_landmarks(errors)
    assert summary.n_tip_missing == 1
    assert summary.tips_within_tolerance == 0.0
    assert math.isnan(summary.length_smape)
    assert math.isnan(summary.confident_within_tolerance)
    assert errors[0].start_error_mm == pytest.approx(0.1)


def test_far_tips_are_those_away_from_every_true_tip_on_the_plate() -> None:
    from visionkit.evaluation.landmark_metrics import far_tips

    truth = [_truth(1, 100), _truth(2, 400), _truth(3, 700)]
    predicted = [
        _shifted(truth[0], 0, 150),  # 7.5 mm below its own tip: a lateral taken, far
        _shifted(truth[1], 290, 0),  # 14.5 mm off its own tip, but on plant 3's: not far
        _shifted(truth[2], 0, 20),  # 1 mm: close
        PlantPoints(9, (1000.0, 100.0), (1000.0, 300.0), tip_confidence=0.95),  # debris
    ]
    matching = match_plants(truth, predicted, max_distance_px=50)

    assert far_tips(matching, mm_per_px=0.05) == 2
    assert far_tips(matching, mm_per_px=0.05, far_mm=10.0) == 1  # only the debris (15.8 mm)
    assert far_tips(matching, mm_per_px=None) is None


def test_the_summary_counts_misses_next_to_the_share_within_1mm() -> None:
    from visionkit.evaluation.landmark_metrics import far_tips

    truth = [_truth(1, 100), _truth(2, 400), _truth(3, 700)]
    predicted = [
        _shifted(truth[0], 0, 150, confidence=0.9),  # far and confident: both misses
        _shifted(truth[1], 0, 30, confidence=0.85),  # 1.5 mm, confident: off
        _shifted(truth[2], 0, 5, confidence=0.95),  # fine
    ]
    matching = match_plants(truth, predicted, max_distance_px=50)
    errors = plant_errors(matching, image="p", mm_per_px=0.05)

    summary = summarize_landmarks(errors, n_far_tips=far_tips(matching, mm_per_px=0.05))

    assert summary.tips_within_tolerance == pytest.approx(1 / 3)
    assert summary.n_far_tips == 1
    assert summary.far_tips_per_60 == pytest.approx(20.0)  # 1 in 3 plants, per 60
    assert summary.n_confident_tips == 3
    assert summary.n_confident_off == 2
    assert summary.confident_off_share == pytest.approx(2 / 3)
    unmeasured = summarize_landmarks(errors).to_dict()
    assert unmeasured["n_far_tips"] is None
    assert unmeasured["far_tips_per_60"] is None
