"""Test-time augmentation: run the model on flipped copies and flip the answers back.

Plates have no preferred left or right, so a horizontal flip is a free
second opinion; a vertical flip is a harder one (shoots are always above the
roots in training) and is opt-in. Averaging the passes smooths the
probabilities; their disagreement feeds the uncertainty map
(:func:`~visionkit.inference.uncertainty.combine_uncertainty`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["TTA_MODES", "flip", "flips_for", "unflip"]

#: Names accepted by ``segment_image(tta=...)``.
TTA_MODES: dict[str, tuple[str, ...]] = {
    "none": ("identity",),
    "hflip": ("identity", "hflip"),
    "flips": ("identity", "hflip", "vflip"),
}


def flips_for(tta: bool | str | Sequence[str]) -> tuple[str, ...]:
    """The passes to run for a ``tta`` option: ``False``, ``True`` (= ``"hflip"``), a mode name.

    Raises:
        ValueError: an unknown mode, listing the valid ones.
    """
    if tta is False or tta is None:
        return TTA_MODES["none"]
    if tta is True:
        return TTA_MODES["hflip"]
    if isinstance(tta, str):
        if tta not in TTA_MODES:
            raise ValueError(f"unknown tta mode {tta!r}; valid modes are {', '.join(TTA_MODES)}")
        return TTA_MODES[tta]
    passes = tuple(tta)
    for name in passes:
        if name not in ("identity", "hflip", "vflip"):
            raise ValueError(f"unknown tta pass {name!r}; valid passes are identity, hflip, vflip")
    return passes or TTA_MODES["none"]


def flip(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` (``(..., H, W)``) as pass ``name`` sees it."""
    if name == "hflip":
        return np.ascontiguousarray(image[..., ::-1])
    if name == "vflip":
        return np.ascontiguousarray(image[..., ::-1, :])
    return image


def unflip(output: np.ndarray, name: str) -> np.ndarray:
    """Undo pass ``name`` on an output map (every flip is its own inverse)."""
    return flip(output, name)
