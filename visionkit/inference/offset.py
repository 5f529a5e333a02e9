"""Register a model's probability maps with the image: a sub-pixel map offset.

A network can place everything it finds a fraction of a pixel off where it
is in the image: a training pipeline that resampled labels on a slightly
different grid than images (version 2 of the default model learned labels
about 0.4 working pixels down and to the right of the roots: nearest-neighbour
label resizing in its scale jitter), or an encoder whose strided layers pad
one side only. The error is the same everywhere, so it is fixed the way a
temperature is: measured on held-out plates, stored in the model's
``config.json`` as ``map_offset`` and applied to every prediction.

:func:`shift_maps` samples each map at ``p + offset`` (bilinear), so with
``map_offset = (dx, dy)`` what the network put at ``p + offset`` is reported
at ``p``. :func:`estimate_offset` measures the residual offset of one plate by
phase correlation between the predicted foreground (``1 - p(background)``)
and the true foreground coverage at working resolution, refined by a few
Lucas-Kanade steps (phase correlation alone pulls sub-pixel shifts towards
whole pixels: it read 0.25 for a true 0.4); over plates the median is robust
to the odd plate where the match wanders.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MAX_OFFSET", "estimate_offset", "shift_maps", "validate_offset"]

#: The largest offset accepted, in working pixels: beyond it the model is wrong, not shifted.
MAX_OFFSET = 2.0


def validate_offset(value: object, *, source: str = "map_offset") -> tuple[float, float]:
    """``value`` as a ``(dx, dy)`` pair of finite floats within :data:`MAX_OFFSET`.

    Raises:
        ValueError: not two finite numbers, or one beyond :data:`MAX_OFFSET`.
    """
    try:
        dx, dy = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source} must be two numbers [dx, dy], got {value!r}") from exc
    if not all(math.isfinite(v) and abs(v) <= MAX_OFFSET for v in (dx, dy)):
        raise ValueError(
            f"{source} must be finite and within +-{MAX_OFFSET} working pixels, got {[dx, dy]}"
        )
    return dx, dy


def shift_maps(maps: np.ndarray, offset: tuple[float, float]) -> np.ndarray:
    """``(C, h, w)`` maps sampled at ``p + offset`` (bilinear, edges repeated).

    Returns ``maps`` itself when the offset is zero, else new float32 maps.
    """
    import cv2

    dx, dy = offset
    if dx == 0.0 and dy == 0.0:
        return maps
    stack = np.asarray(maps, dtype=np.float32)
    height, width = stack.shape[-2:]
    # warpAffine without WARP_INVERSE_MAP moves content by the matrix's
    # translation: out(p) = in(p + offset).
    matrix = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], dtype=np.float32)
    out = np.empty_like(stack)
    for index, plane in enumerate(stack):
        out[index] = cv2.warpAffine(
            plane,
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    return out


def estimate_offset(
    truth: np.ndarray, predicted: np.ndarray, *, iterations: int = 4
) -> tuple[float, float, float]:
    """Where ``predicted`` lies relative to ``truth``: ``(dx, dy, response)``.

    Args:
        truth: ``(h, w)`` true foreground coverage in [0, 1] at working resolution.
        predicted: ``(h, w)`` predicted foreground probability, same shape.
        iterations: Lucas-Kanade refinements after the phase correlation.

    Returns:
        The shift in working pixels that carries ``truth`` onto ``predicted``
        (positive: the prediction lies right of / below the truth), and the
        phase correlation's peak response (near 1 for a clean match).

    Raises:
        ValueError: shapes differ or are not 2-D.
    """
    import cv2

    a = np.asarray(truth, dtype=np.float32)
    b = np.asarray(predicted, dtype=np.float32)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"truth and predicted must be equal 2-D maps, got {a.shape}, {b.shape}")
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(a, b, window)
    shift = np.array([dx, dy], dtype=np.float64)
    for _ in range(iterations):
        # truth moved by the current estimate; solve the linearised residual.
        moved = shift_maps(a[None], (-shift[0], -shift[1]))[0]
        gy, gx = np.gradient(moved.astype(np.float64))
        diff = b.astype(np.float64) - moved
        gram = np.array([[(gx * gx).sum(), (gx * gy).sum()], [(gx * gy).sum(), (gy * gy).sum()]])
        if abs(np.linalg.det(gram)) < 1e-9:
            break
        step = -np.linalg.solve(gram, [(gx * diff).sum(), (gy * diff).sum()])
        shift += step
        if float(np.hypot(*step)) < 1e-3:
            break
    return float(shift[0]), float(shift[1]), float(response)
