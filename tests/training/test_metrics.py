"""ConfusionMatrix: per-class scores from pixel counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from visionkit.training.metrics import ConfusionMatrix


def test_scores_match_a_hand_count() -> None:
    truth = np.array([[0, 0, 1, 1], [0, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 0], [0, 2, 2, 2]])
    cm = ConfusionMatrix(3)
    cm.update(pred, truth)
    # class 1: TP 1 (0,2), FP 1 (0,1), FN 2 (0,3),(1,3)
    assert cm.iou()[1] == pytest.approx(1 / 4)
    assert cm.f1()[1] == pytest.approx(2 / 5)
    assert cm.precision()[1] == pytest.approx(1 / 2)
    assert cm.recall()[1] == pytest.approx(1 / 3)
    assert cm.accuracy() == pytest.approx(5 / 8)
    assert cm.total == 8


def test_counts_accumulate_independently_of_tiling() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, (32, 32))
    pred = np.where(rng.random((32, 32)) < 0.7, truth, rng.integers(0, 3, (32, 32)))
    whole = ConfusionMatrix(3)
    whole.update(pred, truth)
    tiled = ConfusionMatrix(3)
    for y in (0, 16):
        part = ConfusionMatrix(3)
        part.update(torch.from_numpy(pred[y : y + 16]), torch.from_numpy(truth[y : y + 16]))
        tiled.merge(part)
    np.testing.assert_array_equal(whole.matrix, tiled.matrix)


def test_absent_class_has_no_score_and_means_skip_it() -> None:
    cm = ConfusionMatrix(3)
    cm.update(np.array([0, 1, 1]), np.array([0, 1, 0]))
    summary = cm.summary(("background", "root", "seed"), prefix="val_")
    assert math.isnan(summary["val_seed_iou"])
    assert summary["val_root_iou"] == pytest.approx(0.5)
    assert summary["val_mean_iou"] == pytest.approx(0.5)  # seed skipped
    assert set(summary) >= {"val_root_f1", "val_root_precision", "val_root_recall", "val_accuracy"}


def test_empty_matrix_and_reset() -> None:
    cm = ConfusionMatrix(2)
    assert math.isnan(cm.accuracy())
    assert math.isnan(cm.summary(("background", "root"))["mean_iou"])
    cm.update(np.array([1]), np.array([1]))
    cm.reset()
    assert cm.total == 0


def test_ignore_index_leaves_padding_out() -> None:
    cm = ConfusionMatrix(2, ignore_index=255)
    cm.update(np.array([1, 0, 1]), np.array([1, 255, 0]))
    assert cm.total == 2


def test_bad_input_is_refused() -> None:
    cm = ConfusionMatrix(2)
    with pytest.raises(ValueError, match="same shape"):
        cm.update(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"0\.\.1"):
        cm.update(np.array([2]), np.array([0]))
    with pytest.raises(ValueError, match="need 2 class names"):
        cm.summary(("background",))
    with pytest.raises(ValueError, match="merge"):
        cm.merge(ConfusionMatrix(3))
    with pytest.raises(ValueError, match="n_classes"):
        ConfusionMatrix(0)
