"""Mask thresholds: counted per candidate, fitted to the labels' edges, used by every mask."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.evaluation.mask_fit import THRESHOLDS, MaskThresholdFit, _above
from visionkit.inference.segment import SegmentationResult

CLASSES = ("background", "root", "shoot", "seed")


def _seg(root_prob: np.ndarray, **kwargs: object) -> SegmentationResult:
    """A segmentation at scale 1 whose root margin is ``2 p - 1``."""
    h, w = root_prob.shape
    probs = np.zeros((4, h, w), np.float32)
    probs[1] = root_prob
    probs[0] = 1.0 - root_prob
    return SegmentationResult(
        probabilities=probs,
        classes=CLASSES,
        offset=(0, 0),
        crop_size=(w, h),
        input_size=(w, h),
        scale=1.0,
        **kwargs,  # type: ignore[arg-type]
    )


def test_counts_above_each_threshold_match_a_direct_count() -> None:
    values = np.random.default_rng(0).uniform(-1, 1, 5000).astype(np.float32)
    thresholds = np.asarray(THRESHOLDS, np.float32)
    assert _above(values, thresholds).tolist() == [int((values > t).sum()) for t in thresholds]


@pytest.mark.parametrize("edge", [-0.2, 0.0, 0.1])
def test_the_fit_finds_where_the_labels_draw_the_edge(edge: float) -> None:
    rng = np.random.default_rng(1)
    root_prob = rng.uniform(0, 1, (60, 80)).astype(np.float32)
    truth = np.where(2 * root_prob - 1 > edge, 1, 0).astype(np.uint8)
    fit = MaskThresholdFit(CLASSES)
    fit.add(_seg(root_prob), truth)
    fit.add(_seg(root_prob), truth)  # counts add up over plates
    result = fit.result({"root": 0.0})
    assert result["fitted"]["root"] == pytest.approx(edge)
    assert result["f1_fitted"]["root"] == pytest.approx(1.0)
    assert result["f1_at_zero"]["root"] <= result["f1_fitted"]["root"]
    assert result["model"] == {"root": 0.0, "shoot": 0.0, "seed": 0.0}
    assert len(result["f1_by_threshold"]["root"]) == len(THRESHOLDS)


def test_masks_use_the_models_threshold_or_the_one_given() -> None:
    root_prob = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10)
    plain = _seg(root_prob)
    generous = _seg(root_prob, mask_thresholds={"root": -0.5})
    assert (plain.mask_at_input_size("root") > 0).sum() == (root_prob > 0.5).sum()
    assert (generous.mask_at_input_size("root") > 0).sum() == (root_prob > 0.25).sum()
    assert (plain.mask_at_input_size("root", threshold=-0.5) > 0).sum() == (root_prob > 0.25).sum()
