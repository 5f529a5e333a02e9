"""Place a short root's tip on the input image itself, at full resolution.

The landmarks are found on working-scale maps (half the input by default).
For a long root a working pixel is nothing, but a seedling that germinated
late has a root of a few millimetres, two or three working pixels wide,
and the model's map of it ends wherever its last blurred pixels fall under
the threshold: often half a millimetre short of, or past, the real end.
The input image still shows that end. :func:`refine_tip` looks at the grey
levels along the root's direction around the tip found: the root's
*contrast* (its centre against the agar on both sides, a root width away)
measured on the root's last millimetre, then the point where that contrast
falls to half, within :data:`MAX_MOVE_MM` either way, read on the image
blurred by a pixel and averaged over a few pixels along the root, so pixel
noise does not end it. That is where the tip goes; a root whose contrast is
too weak to see (:data:`MIN_CONTRAST` grey levels), or shorter than
:data:`MIN_ROOT_MM`, keeps the tip it had.

:func:`refine_short_tips` does it for every plant of a
:class:`~visionkit.landmarks.result.Landmarks` whose primary root is shorter
than :data:`SHORT_ROOT_MM`, given the map from working to input pixels: the
call a pipeline makes once it has the input image and the landmarks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from visionkit.landmarks.polyline import arc_length
from visionkit.landmarks.result import PlantLandmarks
from visionkit.landmarks.walk import end_direction

__all__ = [
    "MAX_MOVE_MM",
    "MIN_CONTRAST",
    "MIN_ROOT_MM",
    "SHORT_ROOT_MM",
    "contrast_across",
    "grey_window",
    "refine_short_tips",
    "refine_tip",
]

logger = logging.getLogger(__name__)

#: Roots shorter than this (mm) have their tip refined at full resolution.
SHORT_ROOT_MM = 5.0

#: The farthest the tip moves, either way, in mm: a working pixel's blur and a margin.
MAX_MOVE_MM = 0.75

#: Below this contrast (grey levels of an 8-bit image) the root is not seen well
#: enough on the image to move its tip.
MIN_CONTRAST = 4.0

#: Where the agar is read beside the root, in mm from its centre line.
_SIDE_MM = 0.35

#: Roots shorter than this (mm) keep their tip: their last millimetre is the seed.
MIN_ROOT_MM = 1.0

#: Sampling step along the root, in input pixels.
_STEP_PX = 0.5

#: The image is blurred by this Gaussian sigma (input px) before it is read ...
_BLUR_PX = 1.0

#: ... and the contrast profile averaged over this length (input px): pixel
#: noise of a few grey levels must not end a root whose contrast is ten.
_RUN_PX = 3.0


def _grey(image: np.ndarray) -> np.ndarray:
    """The image as float32 grey levels on the 8-bit scale (first channel of a colour image)."""
    array = np.asarray(image)
    if array.ndim == 3:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"refine_tip: image must be H x W (or H x W x C), got {array.shape}")
    grey = array.astype(np.float32)
    if array.dtype == np.uint16:
        grey /= 257.0
    elif np.issubdtype(array.dtype, np.floating) and float(np.nanmax(grey, initial=0.0)) <= 1.0:
        grey *= 255.0
    return grey


def _sample(grey: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear grey levels at ``(N, 2)`` points ``(x, y)``; NaN off the image."""
    import cv2

    xy = np.asarray(points, np.float32).reshape(1, -1, 2)
    values = cv2.remap(
        grey,
        xy[..., 0],
        xy[..., 1],
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=float("nan"),
    )
    return np.asarray(values, np.float64).ravel()


def contrast_across(
    grey: np.ndarray, points: np.ndarray, normal: np.ndarray, side: float
) -> np.ndarray:
    """Centre minus the mean of both sides, at each point (signed: roots may be light or dark)."""
    centre = _sample(grey, points)
    beside = 0.5 * (_sample(grey, points + side * normal) + _sample(grey, points - side * normal))
    return np.asarray(centre - beside, np.float64)


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    """Running mean over ``width`` samples (NaN-aware: NaN samples do not count)."""
    if width <= 1:
        return values
    known = np.isfinite(values)
    kernel = np.ones(width)
    total = np.convolve(np.where(known, values, 0.0), kernel, mode="same")
    count = np.convolve(known.astype(np.float64), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def grey_window(
    image: np.ndarray, centre: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """Grey levels around ``centre``, blurred by a pixel's sigma, and their top-left ``(x, y)``.

    Only the window is converted to float: a full Hades frame is 50 MB of it.
    """
    import cv2

    height, width = image.shape[:2]
    x0, y0 = (max(0, int(c - radius)) for c in centre)
    x1, y1 = min(width, int(centre[0] + radius) + 2), min(height, int(centre[1] + radius) + 2)
    crop = np.ascontiguousarray(_grey(image[y0:y1, x0:x1]))
    if crop.size:
        crop = cv2.GaussianBlur(crop, (0, 0), _BLUR_PX)
    return crop, np.array([x0, y0], np.float64)


def refine_tip(
    path: np.ndarray,
    image: np.ndarray,
    *,
    px_per_mm: float,
    max_move_mm: float = MAX_MOVE_MM,
    min_contrast: float = MIN_CONTRAST,
) -> np.ndarray:
    """``path`` with its tip moved to where the root ends on the full-resolution ``image``.

    The contrast profile along the root's direction (image blurred by
    :data:`_BLUR_PX`, profile by a running mean over :data:`_RUN_PX`) is
    split into runs above half the root's own contrast; the tip goes to the
    far end of the run that holds the tip found (cut short: it moves on), or
    of the nearest run behind it (overshot: it moves back).

    Args:
        path: ``(K, 2)`` primary-root polyline ``(x, y)`` from start to tip,
            in *input-image* pixels.
        image: the input image (grey, or colour whose first channel is used;
            8-bit, 16-bit or float in [0, 1]).
        px_per_mm: the image's resolution.
        max_move_mm: the farthest the tip may move along the root, either way.
        min_contrast: the least root contrast (8-bit grey levels) at which
            the tip is moved at all.

    Returns:
        A new ``(K', 2)`` path: points past the new tip dropped and the new
        tip appended; a copy of ``path`` when the root is shorter than
        :data:`MIN_ROOT_MM`, too faint to see, has no direction, or the tip
        would not move.

    Raises:
        ValueError: ``image`` is not 2-D (or 3-D) or ``px_per_mm`` is not positive.
    """
    if px_per_mm <= 0:
        raise ValueError(f"refine_tip: px_per_mm must be positive, got {px_per_mm}")
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"refine_tip: image must be H x W (or H x W x C), got {array.shape}")
    points = np.asarray(path, np.float64).reshape(-1, 2)
    direction = end_direction(points, px_per_mm, at_start=False)
    if direction is None or arc_length(points) < MIN_ROOT_MM * px_per_mm:
        return points.copy()
    tip = points[-1]
    normal = np.array([-direction[1], direction[0]])
    side = max(3.0, _SIDE_MM * px_per_mm)
    reach = max_move_mm * px_per_mm
    span = min(1.0 * px_per_mm, 0.7 * arc_length(points))
    crop, origin = grey_window(array, tip, max(reach, span) + side + 4.0)
    if crop.size == 0:
        return points.copy()
    local = tip - origin
    run = max(1, round(_RUN_PX / _STEP_PX))
    # The root's own contrast, on its last millimetre short of the tip's blur
    # (on a shorter root, on the part of it away from the seed).
    behind = np.arange(-span, -min(0.25 * px_per_mm, 0.3 * span), _STEP_PX)
    own = contrast_across(crop, local + behind[:, None] * direction, normal, side)
    if len(own) == 0 or not np.isfinite(own).any():
        return points.copy()
    level = float(np.nanmedian(own))
    if abs(level) < min_contrast:
        logger.debug("tip at (%.1f, %.1f): contrast %.1f too weak to refine", *tip, level)
        return points.copy()
    along = np.arange(-reach, reach + 1e-9, _STEP_PX)
    seen = np.sign(level) * contrast_across(crop, local + along[:, None] * direction, normal, side)
    seen = _smooth(seen, run)
    inside = np.nan_to_num(seen, nan=-np.inf) >= 0.5 * abs(level)
    here = int(np.argmin(np.abs(along)))
    behind_tip = np.flatnonzero(inside[: here + 1])
    if len(behind_tip) == 0:
        return points.copy()
    k = int(behind_tip[-1])  # in the run that holds the tip, or the nearest one behind
    while k + 1 < len(along) and inside[k + 1]:
        k += 1
    moved = float(along[k])
    if abs(moved) < 0.25:
        return points.copy()
    new_tip = tip + moved * direction
    # Keep the points that lie before the new tip along the root's direction.
    keep = (points - new_tip) @ direction < 0.0
    keep[0] = True
    return np.vstack([points[keep], new_tip[None, :]])


def refine_short_tips(
    plants: Sequence[PlantLandmarks],
    image: np.ndarray,
    *,
    to_input: Callable[[np.ndarray], np.ndarray],
    input_px_per_mm: float,
    short_mm: float = SHORT_ROOT_MM,
) -> list[tuple[float, float] | None]:
    """Per plant, its tip in *input* pixels, refined on ``image`` for roots under ``short_mm``.

    Args:
        plants: what :func:`~visionkit.landmarks.find_landmarks` found, in
            working pixels.
        image: the input image at full resolution.
        to_input: maps working ``(N, 2)`` points to input pixels (e.g.
            ``SegmentationResult.to_input_xy``).
        input_px_per_mm: the input image's resolution.
        short_mm: roots shorter than this are refined; the rest keep their
            tip, only mapped to input pixels.

    Returns:
        One entry per plant, in order: ``None`` for a plant without tip.
    """
    tips: list[tuple[float, float] | None] = []
    for plant in plants:
        if plant.tip is None:
            tips.append(None)
            continue
        path = to_input(np.asarray(plant.path if len(plant.path) else [plant.tip], np.float64))
        path = np.asarray(path, np.float64).reshape(-1, 2)
        if len(path) >= 2 and arc_length(path) / input_px_per_mm < short_mm:
            refined = refine_tip(path, image, px_per_mm=input_px_per_mm)
            path = refined
            logger.debug("plant %d: short root, tip refined at full resolution", plant.plant)
        tips.append((float(path[-1, 0]), float(path[-1, 1])))
    return tips
