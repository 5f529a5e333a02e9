"""Find the square petri dish in a plate image, and crop to it.

The NPEC dish is a 129 mm rounded square of light-grey agar inside a dark rim
and a dark surround. :func:`detect_dish` works on a copy downscaled to
``work_size`` pixels (a 4202 x 3006 Hades frame takes about 30 ms here):

1. blur, then estimate the agar level (the median of the pixels above Otsu's
   threshold) and the dark level (0.5th percentile); too little contrast
   between them means no dish;
2. threshold halfway between them (never closer than ``min_contrast`` to the
   agar, so droplets and specks, a few dozen grey levels below the agar, stay
   "dish"), then open the mask to cut thin bridges to bright clutter outside;
3. take the largest bright region's convex hull, which spans indentations left
   by droplets along the rim and by the plants;
4. fit the smallest rotated rectangle around the hull: the agar's edge;
5. add the dish wall: on each side, the median grey profile outward from the
   agar shows the wall as a band above the surround's level; the wall ends
   where the profile falls halfway to the surround. A side where the wall
   does not show takes the other sides' median width. The outer rectangle
   gives the dish's angle and size, hence ``mm_per_px = dish_mm / side``.

When the wall is no brighter than the surround anywhere (it cannot be seen),
the rectangle stays at the agar's edge and ``mm_per_px`` comes out about
2-3 % high (1-2 mm of wall on each side of 129 mm). On synthetic plates
with a visible wall the error is below 0.5 %.

A candidate is rejected, with ``found=False`` and a ``reason``, when it is too
small, not square, not solid (a ring or noise), touches nothing darker, or is
barely darker outside than inside. An image that is already a dish crop (the
rim visible only in its corners) yields the whole image. Images without a
dish (uniform, black, noise) are *not* errors: ``found`` is ``False`` and
``bbox`` is ``None`` so a caller can decide to fall back to the full image;
pass ``require=True`` to get an :class:`~visionkit.exceptions.ImageError`
instead.

``confidence`` is the product of three measured factors, each in [0, 1]:
contrast (inside minus outside median, over twice ``min_contrast``, capped at
1), squareness (short side over long side) and solidity (bright pixels over
hull area).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from visionkit.exceptions import ImageError
from visionkit.imageio import check_image, to_grey

__all__ = [
    "DISH_MM",
    "NOMINAL_PX_PER_MM",
    "Dish",
    "crop_dish",
    "crop_to_original",
    "detect_dish",
    "original_to_crop",
]

logger = logging.getLogger(__name__)

#: Side of the square NPEC petri dish, millimetres.
DISH_MM = 129.0

#: Pixels per millimetre of a Hades frame (its dish is about 2600 px across):
#: what a model's ``ModelConfig.scale`` is relative to, and the resolution
#: assumed where no dish was measured.
NOMINAL_PX_PER_MM = 20.0

_MIN_AREA_FRACTION = 0.1  # of the image
_MIN_SQUARENESS = 0.75  # short side / long side
_MIN_SOLIDITY = 0.75  # bright pixels / hull area
_MIN_OUTSIDE_FRACTION = 0.0005  # the rim must show somewhere
_MAX_WALL_FRACTION = 0.04  # of the side: NPEC walls are 1-2 mm of 129
_MIN_WALL_STEP = 8.0  # grey levels between the wall and the surround
_EDGE_RAMP = 4.0  # working pixels the agar's blurred edge takes to fall


@dataclass(frozen=True)
class Dish:
    """Where the dish is in an image.

    Attributes:
        found: whether a dish was found; when ``False`` the geometry fields are
            ``None`` and ``reason`` says why.
        bbox: ``(x0, y0, x1, y1)`` in pixels of the image given, the bounds of
            the fitted rectangle clipped to the image; ``x1``/``y1`` are
            exclusive, so ``image[y0:y1, x0:x1]`` is the dish.
        angle: degrees the dish is turned, positive turning its x axis
            towards +y (clockwise as displayed, y down), in ``(-45, 45]``; the
            convention of the synthetic plates' ``rotation_deg``.
        side_px: the dish's side in pixels (the rotated rectangle's mean side;
            its long side when the dish runs off the image).
        mm_per_px: ``dish_mm / side_px``.
        center: ``(x, y)`` of the dish's centre.
        corners: the fitted rotated rectangle's four ``(x, y)`` corners.
        confidence: in [0, 1], see the module docstring.
        reason: why no dish was found (empty when found).
        image_size: ``(width, height)`` of the image given.
    """

    found: bool
    bbox: tuple[int, int, int, int] | None
    angle: float | None
    side_px: float | None
    mm_per_px: float | None
    center: tuple[float, float] | None
    corners: tuple[tuple[float, float], ...] | None
    confidence: float
    reason: str
    image_size: tuple[int, int]

    @property
    def offset(self) -> tuple[int, int]:
        """``(x0, y0)``: where a crop of :attr:`bbox` starts in the image."""
        if self.bbox is None:
            raise ImageError(f"no dish found ({self.reason}); there is no crop offset")
        return self.bbox[0], self.bbox[1]

    def to_dict(self) -> dict[str, Any]:
        """The prediction contract's ``dish`` entry plus the diagnostics."""
        return {
            "found": self.found,
            "bbox": list(self.bbox) if self.bbox is not None else None,
            "mm_per_px": self.mm_per_px,
            "angle": self.angle,
            "side_px": self.side_px,
            "confidence": self.confidence,
            "reason": self.reason,
        }


def _not_found(reason: str, size: tuple[int, int]) -> Dish:
    logger.debug("no dish: %s", reason)
    return Dish(False, None, None, None, None, None, None, 0.0, reason, size)


def _angle_of(box: np.ndarray) -> float:
    """Angle of a rectangle's edges, clockwise as displayed (y down), in (-45, 45]."""
    dx, dy = box[1] - box[0]
    angle = math.degrees(math.atan2(dy, dx))
    while angle > 45.0:
        angle -= 90.0
    while angle <= -45.0:
        angle += 90.0
    return round(angle, 2) + 0.0


def detect_dish(
    image: np.ndarray,
    *,
    dish_mm: float = DISH_MM,
    work_size: int = 1024,
    min_contrast: float = 40.0,
    require: bool = False,
) -> Dish:
    """Find the square dish in ``image`` (see the module docstring for how).

    Args:
        image: ``uint8`` grayscale ``(H, W)`` or colour ``(H, W, 3|4)``.
        dish_mm: the dish's real side in millimetres (129 for NPEC dishes).
        work_size: the longest side of the downscaled working copy; larger is
            more precise (one working pixel is ``max(H, W) / work_size``
            image pixels) and slower.
        min_contrast: grey levels the dish must be brighter than its
            surround; lower it for very dim images.
        require: raise instead of returning ``found=False``.

    Returns:
        A :class:`Dish` in the coordinates of ``image``.

    Raises:
        ImageError: ``image`` is not a 2-D or 3-D ``uint8`` array, or
            ``require`` is set and no dish was found.
        ValueError: ``dish_mm``, ``work_size`` or ``min_contrast`` is not positive.
    """
    dish = _detect(image, dish_mm=dish_mm, work_size=work_size, min_contrast=min_contrast)
    if require and not dish.found:
        raise ImageError(
            f"no dish found in the {dish.image_size[0]} x {dish.image_size[1]} image: "
            f"{dish.reason}; check the image or crop it yourself"
        )
    return dish


class _NoDishError(Exception):
    """A detection step ruled the candidate out; the message says why."""


class _Working(NamedTuple):
    """The downscaled grey copy detection works on, and its scale."""

    small: np.ndarray
    blurred: np.ndarray
    sx: float  # image pixels per working pixel along x
    sy: float


class _Hull(NamedTuple):
    """The bright region's convex hull and how dish-like it is."""

    points: np.ndarray  # OpenCV's (N, 1, 2) hull
    solidity: float  # bright pixels over hull area
    contrast: float  # grey levels inside over outside


class _Rectangle(NamedTuple):
    """A rotated rectangle in working pixels."""

    centre: np.ndarray
    unit_u: np.ndarray  # along the first side
    unit_v: np.ndarray  # along the second side
    len_u: float
    len_v: float

    @property
    def squareness(self) -> float:
        """Short side over long side."""
        return min(self.len_u, self.len_v) / max(self.len_u, self.len_v)

    def corners(self) -> np.ndarray:
        """The four ``(x, y)`` corners, clockwise as displayed from the ``-u, -v`` one."""
        return np.array(
            [
                self.centre
                + su * 0.5 * self.len_u * self.unit_u
                + sv * 0.5 * self.len_v * self.unit_v
                for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))
            ]
        )


def _detect(image: np.ndarray, *, dish_mm: float, work_size: int, min_contrast: float) -> Dish:
    """:func:`detect_dish` without ``require``: the module docstring's steps in turn."""
    _check_arguments(dish_mm=dish_mm, work_size=work_size, min_contrast=min_contrast)
    grey = to_grey(check_image(image, source="detect_dish"))
    height, width = grey.shape
    size = (width, height)
    try:
        if min(height, width) < 16:
            raise _NoDishError(f"image of {width} x {height} pixels is too small")
        work = _working_copy(grey, work_size)
        dark, agar = _levels(work.blurred, min_contrast)
        region, area = _bright_region(work.blurred, dark, agar, min_contrast)
        hull = _solid_hull(work.blurred, region, area, min_contrast)
        inner, touches = _agar_rectangle(hull, work)
        outer = _add_walls(inner, work.small, dark)
    except _NoDishError as no_dish:
        return _not_found(str(no_dish), size)
    confidence = (
        min(1.0, hull.contrast / (2.0 * min_contrast)) * inner.squareness * min(1.0, hull.solidity)
    )
    dish = _in_image(outer, work, size, dish_mm=dish_mm, touches=touches, confidence=confidence)
    logger.debug("dish: %s", dish)
    return dish


def _check_arguments(*, dish_mm: float, work_size: int, min_contrast: float) -> None:
    if dish_mm <= 0 or work_size <= 0 or min_contrast <= 0:
        raise ValueError(
            f"dish_mm, work_size and min_contrast must be positive, got {dish_mm}, "
            f"{work_size}, {min_contrast}"
        )


def _working_copy(grey: np.ndarray, work_size: int) -> _Working:
    """``grey`` downscaled to ``work_size`` on its longest side (never up), and blurred."""
    import cv2

    height, width = grey.shape
    factor = min(1.0, work_size / max(height, width))
    if factor < 1.0:
        small_size = (max(1, round(width * factor)), max(1, round(height * factor)))
        # Skipping pixels first halves the cost; the blur below averages anyway.
        step = max(1, int(0.5 / factor))
        small = cv2.resize(grey[::step, ::step], small_size, interpolation=cv2.INTER_AREA)
    else:
        small = grey
    sy, sx = height / small.shape[0], width / small.shape[1]
    sigma = max(1.0, max(small.shape) / 256.0)
    return _Working(small, cv2.GaussianBlur(small, (0, 0), sigma), sx, sy)


def _levels(blurred: np.ndarray, min_contrast: float) -> tuple[float, float]:
    """Step 1: the dark level and the agar's; too close together means no dish."""
    import cv2

    dark = float(np.percentile(blurred, 0.5))
    otsu, _ = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    upper = blurred[blurred > otsu]
    agar = float(np.median(upper)) if upper.size else float(np.median(blurred))
    if agar - dark < min_contrast:
        raise _NoDishError(
            f"no contrast: the darkest and the typical bright grey levels differ by "
            f"{agar - dark:.0f} < {min_contrast:.0f}"
        )
    return dark, agar


def _bright_region(
    blurred: np.ndarray, dark: float, agar: float, min_contrast: float
) -> tuple[np.ndarray, float]:
    """Step 2: the largest region brighter than the threshold, opened; and its area."""
    import cv2

    threshold = agar - max(min_contrast, 0.5 * (agar - dark))
    bright = (blurred > threshold).astype(np.uint8)
    kernel_size = max(3, (max(blurred.shape) // 100) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
    bright = np.asarray(cv2.morphologyEx(bright, cv2.MORPH_OPEN, kernel), dtype=np.uint8)

    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    if count < 2:
        raise _NoDishError("no region brighter than its surround")
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = (labels == largest).astype(np.uint8)
    area = float(stats[largest, cv2.CC_STAT_AREA])
    total = float(blurred.shape[0] * blurred.shape[1])
    if area < _MIN_AREA_FRACTION * total:
        raise _NoDishError(
            f"the largest bright region covers {area / total:.0%} of the image "
            f"(< {_MIN_AREA_FRACTION:.0%})"
        )
    return region, area


def _solid_hull(blurred: np.ndarray, region: np.ndarray, area: float, min_contrast: float) -> _Hull:
    """Step 3: the region's convex hull, if solid, inside the image and brighter than outside."""
    import cv2

    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(np.concatenate(contours))
    hull_mask = np.zeros_like(region)
    cv2.fillConvexPoly(hull_mask, hull, 1)
    hull_area = float(np.count_nonzero(hull_mask))
    solidity = area / hull_area
    if solidity < _MIN_SOLIDITY:
        raise _NoDishError(
            f"the bright region is not solid ({solidity:.2f} of its hull; "
            f"a dish is > {_MIN_SOLIDITY})"
        )
    outside = hull_mask == 0
    total = float(blurred.shape[0] * blurred.shape[1])
    if np.count_nonzero(outside) < _MIN_OUTSIDE_FRACTION * total:
        raise _NoDishError("the bright region fills the whole image; no rim is visible")
    contrast = float(np.median(blurred[hull_mask > 0]) - np.median(blurred[outside]))
    if contrast < min_contrast:
        raise _NoDishError(
            f"the region is only {contrast:.0f} grey levels brighter than its surround "
            f"(< {min_contrast:.0f})"
        )
    return _Hull(hull, solidity, contrast)


def _agar_rectangle(hull: _Hull, work: _Working) -> tuple[_Rectangle, bool]:
    """Step 4: the smallest rotated rectangle around the hull, and whether it touches the edge.

    Not square is no dish, unless the dish runs off the image.
    """
    import cv2

    hull_xy = hull.points.reshape(-1, 2).astype(np.float64)
    (cx, cy), (rw, rh), rect_angle = cv2.minAreaRect(hull_xy.astype(np.float32))
    # +1 turns pixel centres into edges.
    box = cv2.boxPoints(((cx, cy), (rw + 1.0, rh + 1.0), rect_angle)).astype(np.float64)
    axis_u, axis_v = box[1] - box[0], box[2] - box[1]
    len_u, len_v = float(np.hypot(*axis_u)), float(np.hypot(*axis_v))
    agar = _Rectangle(np.array([cx, cy]), axis_u / len_u, axis_v / len_v, len_u, len_v)
    xs, ys = hull_xy[:, 0], hull_xy[:, 1]
    height, width = work.small.shape
    touches = bool(
        xs.min() <= 0 or ys.min() <= 0 or xs.max() >= width - 1 or ys.max() >= height - 1
    )
    if agar.squareness < _MIN_SQUARENESS and not touches:
        raise _NoDishError(
            f"the bright region is not square "
            f"(sides {len_u * work.sx:.0f} x {len_v * work.sy:.0f} px)"
        )
    return agar, touches


def _add_walls(agar: _Rectangle, small: np.ndarray, dark: float) -> _Rectangle:
    """Step 5: the agar's rectangle grown by the dark wall where it shows: the dish's outer edge."""
    import cv2

    profile_image = cv2.GaussianBlur(small, (0, 0), 1.0)
    longest = max(agar.len_u, agar.len_v)
    walls = {
        (axis, sign): _wall_width(
            profile_image,
            agar.centre + sign * 0.5 * length * unit,
            sign * unit,
            other,
            0.3 * other_length,
            max_wall=_MAX_WALL_FRACTION * longest,
            min_step=_MIN_WALL_STEP,
            dark=dark,
        )
        for axis, unit, length, other, other_length in (
            ("u", agar.unit_u, agar.len_u, agar.unit_v, agar.len_v),
            ("v", agar.unit_v, agar.len_v, agar.unit_u, agar.len_u),
        )
        for sign in (-1.0, 1.0)
    }
    # One wall all round: a side where it does not show (under droplets, in
    # glare) takes the others' median width.
    seen = [w for w in walls.values() if w > 0]
    if len(seen) >= 2:
        typical = float(np.median(seen))
        walls = {key: (w if w > 0 else typical) for key, w in walls.items()}
    len_u, len_v = agar.len_u, agar.len_v
    len_u += walls["u", -1.0] + walls["u", 1.0]
    len_v += walls["v", -1.0] + walls["v", 1.0]
    centre = (
        agar.centre
        + 0.5 * (walls["u", 1.0] - walls["u", -1.0]) * agar.unit_u
        + 0.5 * (walls["v", 1.0] - walls["v", -1.0]) * agar.unit_v
    )
    return _Rectangle(centre, agar.unit_u, agar.unit_v, len_u, len_v)


def _in_image(
    outer: _Rectangle,
    work: _Working,
    size: tuple[int, int],
    *,
    dish_mm: float,
    touches: bool,
    confidence: float,
) -> Dish:
    """The dish's rectangle taken from working pixels to the image's, as a :class:`Dish`."""
    # A working pixel's centre c maps to (c + 0.5) * s - 0.5.
    width, height = size
    scale = np.array([work.sx, work.sy])
    corners = (outer.corners() + 0.5) * scale - 0.5
    side_u = outer.len_u * float(np.hypot(*(outer.unit_u * scale)))
    side_v = outer.len_v * float(np.hypot(*(outer.unit_v * scale)))
    side = max(side_u, side_v) if touches else 0.5 * (side_u + side_v)
    x0 = max(0, math.floor(corners[:, 0].min() + 0.5))
    y0 = max(0, math.floor(corners[:, 1].min() + 0.5))
    x1 = min(width, math.ceil(corners[:, 0].max() + 0.5))
    y1 = min(height, math.ceil(corners[:, 1].max() + 0.5))
    centre = (outer.centre + 0.5) * scale - 0.5
    return Dish(
        found=True,
        bbox=(int(x0), int(y0), int(x1), int(y1)),
        angle=_angle_of(corners),
        side_px=float(side),
        mm_per_px=float(dish_mm / side),
        center=(float(centre[0]), float(centre[1])),
        corners=tuple((float(x), float(y)) for x, y in corners),
        confidence=float(round(confidence, 4)),
        reason="",
        image_size=size,
    )


def _wall_width(
    image: np.ndarray,
    edge_mid: np.ndarray,
    normal: np.ndarray,
    along: np.ndarray,
    half_span: float,
    *,
    max_wall: float,
    min_step: float,
    dark: float,
) -> float:
    """How far (working pixels) the dark wall reaches beyond one side of the agar.

    Takes the median grey profile across the middle of the side, outward
    from the agar's edge. The surround's level is the profile's median beyond
    ``max_wall`` (or ``dark``, the image's dark level, when the image ends
    sooner); the wall's is the median between the end of the agar's own
    blurred edge (:data:`_EDGE_RAMP` pixels) and the outermost point still
    ``min_step`` above the surround. The wall ends where the profile last
    crosses halfway between the two, or at the image's edge when it is still
    wall there (a dish crop). Returns 0 when the wall is no brighter than the
    surround, so cannot be told from it.
    """
    import cv2

    offsets = np.arange(0.0, max_wall * 1.5 + 2 * _EDGE_RAMP, 0.5)
    spans = np.linspace(-half_span, half_span, 41)
    points = (
        edge_mid[None, None, :]
        + offsets[None, :, None] * normal[None, None, :]
        + spans[:, None, None] * along[None, None, :]
    ).astype(np.float32)
    samples = cv2.remap(
        image.astype(np.float32),
        points[..., 0],
        points[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=-1.0,
    )
    inside = (samples >= 0).mean(axis=0) > 0.5
    end = int(np.argmin(inside)) if not inside.all() else offsets.size
    ramp_end = int(np.searchsorted(offsets, _EDGE_RAMP))
    if end <= ramp_end + 1:
        return 0.0  # the image ends at the agar: nothing beyond to measure
    valid = samples[:, :end]
    profile = np.nanmedian(np.where(valid >= 0, valid, np.nan), axis=0)
    far = offsets[:end] >= max_wall
    surround = float(np.median(profile[far])) if end == offsets.size else dark
    near = np.flatnonzero((profile > surround + min_step) & ~far)
    if near.size == 0 or near[-1] < ramp_end:
        return 0.0
    if near[-1] == end - 1:  # still wall where the image ends
        return float(min(offsets[end - 1] + 0.5, max_wall))
    wall = float(np.median(profile[ramp_end : near[-1] + 1]))
    middle = 0.5 * (wall + surround)
    above = np.flatnonzero(profile[: near[-1] + 2] > middle)
    if above.size == 0:
        return 0.0
    last = int(min(above[-1], end - 2))  # the crossing needs a point after it
    before, after = float(profile[last]), float(profile[last + 1])
    drop = before - after  # can be <= 0 where the profile is flat past the wall
    crossing = offsets[last] + (0.5 * (before - middle) / drop if drop > 0 else 0.5)
    return float(min(crossing, max_wall)) if crossing >= _EDGE_RAMP else 0.0


def crop_dish(
    image: np.ndarray, dish: Dish, *, margin: int = 0
) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut the dish's bounding box (plus ``margin`` pixels, clipped) out of ``image``.

    The crop is axis-aligned and not rotated, so mapping points between crop
    and image is a pure shift by the returned offset (see
    :func:`crop_to_original`).

    Returns:
        ``(crop, (x0, y0))``: a view into ``image`` and where it starts.

    Raises:
        ImageError: ``dish.found`` is false, or ``image`` is not the size the
            dish was detected on.
    """
    if not dish.found or dish.bbox is None:
        raise ImageError(
            f"cannot crop: no dish was found ({dish.reason}); use the full image instead"
        )
    height, width = image.shape[:2]
    if (width, height) != dish.image_size:
        raise ImageError(
            f"cannot crop a {width} x {height} image with a dish found in a "
            f"{dish.image_size[0]} x {dish.image_size[1]} image; detect on this image"
        )
    x0, y0, x1, y1 = dish.bbox
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(width, x1 + margin), min(height, y1 + margin)
    return image[y0:y1, x0:x1], (x0, y0)


def crop_to_original(points: Any, offset: tuple[int, int]) -> np.ndarray:
    """Map ``(x, y)`` points (shape ``(2,)`` or ``(N, 2)``) from a crop to the image."""
    return np.asarray(points, dtype=np.float64) + np.asarray(offset, dtype=np.float64)


def original_to_crop(points: Any, offset: tuple[int, int]) -> np.ndarray:
    """Map ``(x, y)`` points (shape ``(2,)`` or ``(N, 2)``) from the image into a crop."""
    return np.asarray(points, dtype=np.float64) - np.asarray(offset, dtype=np.float64)
