"""Segmentation losses: weighted cross-entropy plus soft Dice.

Roots are about one percent of a plate's pixels and a few pixels wide, so
plain cross-entropy is content to paint everything agar. Two remedies,
combined by default (``dice+ce``):

- class weights in the cross-entropy make a root pixel count more than an
  agar pixel;
- soft Dice over the foreground classes scores each class by its overlap,
  whatever its size, so a thin class weighs as much as a large one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional

__all__ = ["SegmentationLoss", "build_loss", "soft_dice_loss"]


def soft_dice_loss(
    logits: torch.Tensor, target: torch.Tensor, *, smooth: float = 1.0
) -> torch.Tensor:
    """1 - mean soft Dice of the foreground classes (index 0 is background).

    Args:
        logits: ``(N, C, H, W)`` raw scores.
        target: ``(N, H, W)`` integer labels.
        smooth: added to numerator and denominator, so a class absent from
            both prediction and truth scores (nearly) 1 instead of 0/0.
    """
    classes = logits.shape[1]
    probs = logits.float().softmax(dim=1)
    one_hot = functional.one_hot(target.long(), classes).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (0, 2, 3)
    intersection = (probs * one_hot).sum(dims)
    total = probs.sum(dims) + one_hot.sum(dims)
    dice = (2 * intersection + smooth) / (total + smooth)
    foreground = dice[1:] if classes > 1 else dice
    return 1.0 - foreground.mean()


class SegmentationLoss(nn.Module):
    """``ce_weight * CE(class_weights) + dice_weight * (1 - soft Dice)``.

    Args:
        class_weights: one cross-entropy weight per class, or ``None`` for 1s.
        ce_weight: factor of the cross-entropy term (0 leaves it out).
        dice_weight: factor of the Dice term (0 leaves it out).
    """

    def __init__(
        self,
        class_weights: Sequence[float] | None = None,
        *,
        ce_weight: float = 1.0,
        dice_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if ce_weight < 0 or dice_weight < 0 or ce_weight + dice_weight == 0:
            raise ValueError(
                f"loss weights must be >= 0 and not both 0, got ce={ce_weight}, dice={dice_weight}"
            )
        weights = (
            None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
        )
        self.register_buffer("class_weights", weights)
        self.ce_weight = float(ce_weight)
        self.dice_weight = float(dice_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of a batch (a scalar tensor)."""
        loss = logits.new_zeros((), dtype=torch.float32)
        if self.ce_weight:
            weight = self.class_weights if isinstance(self.class_weights, torch.Tensor) else None
            ce = functional.cross_entropy(logits.float(), target.long(), weight=weight)
            loss = loss + self.ce_weight * ce
        if self.dice_weight:
            loss = loss + self.dice_weight * soft_dice_loss(logits, target)
        return loss


def build_loss(
    name: str,
    classes: Sequence[str],
    *,
    loss_weights: Mapping[str, float] | None = None,
    class_weights: Mapping[str, float] | None = None,
) -> SegmentationLoss:
    """The loss called ``name`` (``dice+ce``, ``ce`` or ``dice``) for ``classes``.

    Args:
        name: which terms to use.
        classes: output class names, background first.
        loss_weights: ``{"ce": w, "dice": w}`` factors of the used terms (default 1).
        class_weights: class name -> cross-entropy weight; others weigh 1.

    Raises:
        ValueError: ``name`` is unknown (lists the valid ones).
    """
    terms = {"dice+ce": ("ce", "dice"), "ce": ("ce",), "dice": ("dice",)}
    if name not in terms:
        raise ValueError(f"unknown loss {name!r}; valid losses are: {', '.join(terms)}")
    factors = dict(loss_weights or {})
    used = terms[name]
    weights = [float((class_weights or {}).get(c, 1.0)) for c in classes]
    return SegmentationLoss(
        weights,
        ce_weight=float(factors.get("ce", 1.0)) if "ce" in used else 0.0,
        dice_weight=float(factors.get("dice", 1.0)) if "dice" in used else 0.0,
    )
