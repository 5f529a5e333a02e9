"""The coarse gate: where a sparse pass may find a plant, for a tenth of the work.

A sparse pass (:mod:`~visionkit.inference.sparse`) skips the agar, so what
tells it where to start must be conservative: a plant wrongly skipped is lost,
agar wrongly run only costs time. :func:`coarse_gate` runs the same model on
the working image shrunk by ``factor`` and marks the pixels whose foreground
probability (``1 - p(background)``) is above a low ``threshold``, grown by a
margin. It finds seeds and shoots reliably; a faint thin root can fade out
of it, which is why the sparse pass follows roots with the full model.

(An image test, "darker than the local agar by N grey levels", was tried
beside it and dropped: it fired on droplets, specks and the dish rim, and
the faint roots it was meant for stayed below it.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from visionkit.exceptions import ModelError
from visionkit.inference.temperature import softmax

__all__ = [
    "COARSE_FACTOR",
    "GATE_MARGIN",
    "GATE_THRESHOLD",
    "check_logits",
    "coarse_gate",
]

#: The coarse pass's scale relative to the working scale: 0.09 of the pixels.
COARSE_FACTOR = 0.3

#: Coarse foreground probability above which a pixel may hold a plant: low,
#: so a faint root the coarse pass barely sees still opens its tiles.
GATE_THRESHOLD = 0.02

#: Working pixels by which candidates are grown (a coarse pixel is about
#: three working pixels wide, and a thin root can lie off its centre).
GATE_MARGIN = 24

#: A runtime call: a normalised ``(N, C_in, h, w)`` batch to logits.
RunFn = Callable[[np.ndarray], np.ndarray]


def check_logits(logits: np.ndarray, stack: np.ndarray, classes: int) -> None:
    """Raise :class:`ModelError` unless ``logits`` is ``(N, classes, h, w)`` for ``stack``."""
    if logits.ndim != 4 or logits.shape[1] != classes or logits.shape[2:] != stack.shape[2:]:
        raise ModelError(
            f"the model returned shape {tuple(logits.shape)} for a batch of "
            f"{tuple(stack.shape)}; its config lists {classes} classes, so "
            f"(N, {classes}, {stack.shape[2]}, {stack.shape[3]}) was expected: the weights "
            f"and config.json do not belong together"
        )


def _grow(mask: np.ndarray, margin: int) -> np.ndarray:
    """``mask`` grown by ``margin`` pixels in x and in y: a square, not a disc.

    OpenCV dilates with a rectangle in two 1-D passes, about fifteen times
    faster than with a disc, and the band of rows the sparse pass takes from
    the gate is the same.
    """
    import cv2

    if margin <= 0:
        return mask.astype(bool)
    side = 2 * margin + 1
    kernel = np.ones((side, side), np.uint8)
    return np.asarray(cv2.dilate(mask.astype(np.uint8), kernel), dtype=bool)


def coarse_gate(
    run: RunFn,
    planes: np.ndarray,
    *,
    classes: int,
    temperature: float,
    multiple: int,
    factor: float = COARSE_FACTOR,
    threshold: float = GATE_THRESHOLD,
    margin: int = GATE_MARGIN,
) -> tuple[np.ndarray, tuple[int, int]]:
    """``(H, W)`` bool at working size: where the coarse pass sees a possible plant.

    The model runs once on ``planes`` (``(C_in, H, W)``) shrunk by
    ``factor`` and padded to ``multiple``; channel 0 must be background.
    Also returns the coarse input's ``(height, width)`` (what it cost).

    Raises:
        ModelError: the model's output does not fit its config.
    """
    import cv2

    _, height, width = planes.shape
    small_w, small_h = max(1, round(width * factor)), max(1, round(height * factor))
    small = np.stack(
        [cv2.resize(plane, (small_w, small_h), interpolation=cv2.INTER_AREA) for plane in planes]
    )
    pad_h, pad_w = -small_h % multiple, -small_w % multiple
    if pad_h or pad_w:
        small = np.pad(small, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")
    logits = run(small[None])
    check_logits(logits, small[None], classes)
    probs = softmax(logits[0], axis=0, temperature=temperature)[:, :small_h, :small_w]
    candidate = (probs[0] < np.float32(1.0 - threshold)).astype(np.uint8)
    grown = cv2.resize(candidate, (width, height), interpolation=cv2.INTER_NEAREST)
    return _grow(grown, margin), (int(small.shape[1]), int(small.shape[2]))
