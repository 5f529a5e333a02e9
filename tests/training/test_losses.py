"""Losses: right predictions cost less; root weights make missed roots cost more."""

from __future__ import annotations

import pytest
import torch

from visionkit.training.losses import SegmentationLoss, build_loss, soft_dice_loss

CLASSES = ("background", "root", "shoot")


def _logits_for(labels: torch.Tensor, classes: int = 3, confidence: float = 8.0) -> torch.Tensor:
    one_hot = torch.nn.functional.one_hot(labels, classes).permute(0, 3, 1, 2).float()
    return one_hot * confidence


def _labels() -> torch.Tensor:
    labels = torch.zeros(2, 16, 16, dtype=torch.long)
    labels[:, :, 7:9] = 1  # a thin root
    labels[:, :3, 5:11] = 2
    return labels


@pytest.mark.parametrize("name", ["dice+ce", "ce", "dice"])
def test_right_prediction_costs_less_than_a_wrong_one(name: str) -> None:
    labels = _labels()
    loss = build_loss(name, CLASSES)
    right = loss(_logits_for(labels), labels)
    wrong = loss(_logits_for(torch.zeros_like(labels)), labels)
    assert float(right) < 0.05 < float(wrong)


def test_root_weight_makes_missing_roots_cost_more() -> None:
    labels = _labels()
    missed = _logits_for(torch.where(labels == 1, 0, labels))
    plain = build_loss("ce", CLASSES)(missed, labels)
    weighted = build_loss("ce", CLASSES, class_weights={"root": 5.0})(missed, labels)
    assert float(weighted) > 1.5 * float(plain)


def test_dice_weight_scales_its_term() -> None:
    labels = _labels()
    logits = torch.zeros(2, 3, 16, 16)
    one = build_loss("dice", CLASSES)(logits, labels)
    two = build_loss("dice", CLASSES, loss_weights={"dice": 2.0})(logits, labels)
    assert float(two) == pytest.approx(2 * float(one))
    assert float(one) == pytest.approx(float(soft_dice_loss(logits, labels)))


def test_dice_ignores_background_and_handles_one_class() -> None:
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    assert float(soft_dice_loss(_logits_for(labels, 1), labels)) == pytest.approx(0.0, abs=1e-3)


def test_loss_gives_gradients() -> None:
    labels = _labels()
    logits = torch.zeros(2, 3, 16, 16, requires_grad=True)
    build_loss("dice+ce", CLASSES)(logits, labels).backward()
    assert logits.grad is not None
    assert float(logits.grad.abs().sum()) > 0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="valid losses are: dice\\+ce, ce, dice"):
        build_loss("focal", CLASSES)
    with pytest.raises(ValueError, match="not both 0"):
        SegmentationLoss(ce_weight=0.0, dice_weight=0.0)
