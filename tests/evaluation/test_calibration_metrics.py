"""Reliability bins and ECE against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.evaluation import ReliabilityAccumulator, expected_calibration_error


def test_perfect_probabilities_have_zero_ece() -> None:
    truth = np.array([0, 1, 1, 0, 1], dtype=np.uint8)
    assert expected_calibration_error(truth.astype(float), truth) == 0.0


def test_over_confident_probabilities_match_the_hand_computed_ece() -> None:
    # Ten pixels called 0.9 root of which 6 are root: gap 0.3.
    # Ten pixels called 0.1 root of which 1 is root: gap 0.0.
    # ECE = (10 * 0.3 + 10 * 0.0) / 20 = 0.15.
    probs = np.array([0.9] * 10 + [0.1] * 10)
    truth = np.array([1] * 6 + [0] * 4 + [1] * 1 + [0] * 9)
    assert expected_calibration_error(probs, truth) == pytest.approx(0.15)


def test_bins_keep_counts_confidence_and_frequency() -> None:
    acc = ReliabilityAccumulator(bins=4)
    acc.update([0.1, 0.2, 0.9, 1.0], [0, 1, 1, 1])
    diagram = acc.result()
    assert diagram.edges == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert diagram.counts == (2.0, 0.0, 0.0, 2.0)
    assert diagram.confidence[0] == pytest.approx(0.15)
    assert diagram.frequency[0] == pytest.approx(0.5)
    assert math.isnan(diagram.confidence[1])
    assert diagram.frequency[3] == 1.0
    # gaps 0.35 and 0.05, two pixels each: ECE 0.2, largest gap 0.35
    assert diagram.ece == pytest.approx(0.2)
    assert diagram.max_gap == pytest.approx(0.35)
    as_dict = diagram.to_dict()
    assert as_dict["confidence"][1] is None
    assert as_dict["pixels"] == 4.0


def test_fractional_outcomes_and_weights_count_as_shares() -> None:
    acc = ReliabilityAccumulator(bins=2)
    acc.update([0.75, 0.75], [0.5, 1.0], weights=[1.0, 3.0])
    diagram = acc.result()
    assert diagram.frequency[1] == pytest.approx((0.5 + 3.0) / 4.0)
    assert diagram.ece == pytest.approx(abs(0.875 - 0.75))


def test_accumulating_images_equals_scoring_them_together() -> None:
    rng = np.random.default_rng(0)
    probs, truth = rng.random(1000), rng.random(1000) < 0.3
    whole = expected_calibration_error(probs, truth)
    first, second = ReliabilityAccumulator(), ReliabilityAccumulator()
    first.update(probs[:400], truth[:400])
    second.update(probs[400:], truth[400:])
    assert first.merge(second).result().ece == pytest.approx(whole)


def test_an_empty_accumulator_has_no_ece() -> None:
    acc = ReliabilityAccumulator()
    acc.update([], [])
    assert math.isnan(acc.result().ece)
    assert math.isnan(acc.result().max_gap)
    assert acc.result().to_dict()["ece"] is None


@pytest.mark.parametrize(
    ("probs", "truth", "weights", "message"),
    [
        ([0.5, 0.5], [1], None, "one shape"),
        ([1.5], [1], None, "probabilities must lie"),
        ([0.5], [2], None, "outcomes must lie"),
        ([0.5], [1], [-1.0], "weights must be"),
    ],
)
def test_bad_inputs_are_refused(
    probs: list[float], truth: list[float], weights: list[float] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ReliabilityAccumulator().update(probs, truth, weights)


def test_bins_and_merges_must_fit() -> None:
    with pytest.raises(ValueError, match="bins"):
        ReliabilityAccumulator(bins=0)
    with pytest.raises(ValueError, match="merge"):
        ReliabilityAccumulator(bins=3).merge(ReliabilityAccumulator(bins=4))


def test_area_shares_of_a_label_stay_within_zero_and_one() -> None:
    """Regression: INTER_AREA resizing overshot 1 by 2e-7 and broke the ECE update."""
    import numpy as np

    from visionkit.evaluation.evaluate import _coverage
    from visionkit.inference.segment import SegmentationResult

    rng = np.random.default_rng(0)
    truth = (rng.random((701, 853)) > 0.5).astype(np.uint8)
    seg = SegmentationResult(
        probabilities=np.zeros((2, 351, 427), np.float32),
        classes=("background", "root"),
        offset=(0, 0),
        crop_size=(853, 701),
        input_size=(853, 701),
        scale=0.5,
    )
    shares = _coverage(truth, seg, 1)
    assert shares.shape == (351, 427)
    assert shares.min() >= 0.0
    assert shares.max() <= 1.0
