"""Does the root go on, faintly, beyond its tip? A doubt read on the input image.

A root that fades into the agar (out of focus, grown deeper, contrast that
falls along its length) is cut short where the model stops seeing it, and
the model's map then ends cleanly: the map-based doubts (``tip_prob``,
``tip_ahead``) find nothing wrong with such a tip. The input image at full
resolution often still shows the root going on, a few grey levels darker
than the agar on both sides.

:func:`trail_ratio` measures that: along rays from the tip within
:data:`TRAIL_DEG` degrees of the root's last millimetre, from
:data:`TRAIL_NEAR_MM` to :data:`TRAIL_FAR_MM` mm on, the darkness of the
ray's centre against the agar beside it (as :mod:`~visionkit.landmarks.fine_tip`
reads a root's contrast), for the darkest ray, divided by the root's own
darkness over its last millimetre. Each darkness is the median along the
ray, so a droplet's rim or a speck that crosses a ray is not a trail. Near 0
beyond a real tip (agar only: noise), a sizeable share of the root's own
contrast where the root goes on. :func:`trail_factor` turns it into
``tip_trail`` in [:data:`TRAIL_FLOOR`, 1]: 1 up to :data:`TRAIL_CLEAR`,
falling linearly to the floor at :data:`TRAIL_FULL`. How strongly it lowers
a tip's confidence is fitted with the other doubts
(:mod:`~visionkit.landmarks.tip_calibration`). Roots shorter than
:data:`MIN_ROOT_MM` are not read: their last millimetre is the seed's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visionkit.landmarks.fine_tip import contrast_across, grey_window
from visionkit.landmarks.polyline import arc_length
from visionkit.landmarks.walk import end_direction

__all__ = [
    "MIN_ROOT_MM",
    "TRAIL_CLEAR",
    "TRAIL_DEG",
    "TRAIL_FAR_MM",
    "TRAIL_FLOOR",
    "TRAIL_FULL",
    "TRAIL_NEAR_MM",
    "TipReading",
    "read_tip",
    "reading_ratio",
    "rotate",
    "trail_factor",
    "trail_ratio",
]

#: The rays start this far beyond the tip (mm): the tip's own blur is not trail.
TRAIL_NEAR_MM = 0.3

#: ... and end this far (mm): a fade-cut tip found on the development plates
#: lay 2-5 mm short of the real one, and farther on other roots and debris
#: come into reach.
TRAIL_FAR_MM = 2.5

#: Rays within this many degrees of the root's last millimetre, either side
#: (a fading root still bends) ...
TRAIL_DEG = 25.0

#: ... every this many degrees.
TRAIL_STEP_DEG = 5.0

#: A ratio up to this is agar: beyond 541 tips within 1 mm of the truth on
#: development and validation plates 3.9 % read above it (the median 0.04),
#: beyond 98 tips more than 1 mm off 46 %.
TRAIL_CLEAR = 0.15

#: The ratio at which ``tip_trail`` reaches :data:`TRAIL_FLOOR`: the root
#: goes on as dark as it was.
TRAIL_FULL = 1.0

#: The lowest ``tip_trail``.
TRAIL_FLOOR = 0.1

#: Roots shorter than this (mm) are not read: the root's own darkness is
#: measured over its last millimetre, which on a shorter root is the seed.
#: Fading roots cut short often look short: of 14 tips more than 1 mm off on
#: roots of 2-5 mm on development and validation plates, 10 read above
#: :data:`TRAIL_CLEAR`, of 125 within 1 mm, 3.
MIN_ROOT_MM = 2.0

#: The root's own darkness (8-bit grey levels) is taken as at least this, so
#: a root barely darker than the agar does not turn noise into a large ratio.
MIN_LEVEL = 2.0

#: Where the agar is read beside a ray, in mm from its centre line.
_SIDE_MM = 0.35

#: Sampling step along a ray, in input pixels.
_STEP_PX = 0.5


def rotate(vector: np.ndarray, degrees: float) -> np.ndarray:
    """``vector`` turned by ``degrees`` (image axes: positive turns from +x towards +y)."""
    angle = math.radians(degrees)
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * vector[0] - s * vector[1], s * vector[0] + c * vector[1]])


def _darkness(crop: np.ndarray, points: np.ndarray, direction: np.ndarray, side: float) -> float:
    """Median darkness (agar beside minus centre) at ``points`` across ``direction``.

    The median, not the mean: a droplet's dark rim or a speck crosses a ray
    for a fraction of its length, a root going on darkens most of it. NaN
    when every point lies off the image.
    """
    normal = np.array([-direction[1], direction[0]])
    values = -contrast_across(crop, points, normal, side)
    return float(np.nanmedian(values)) if np.isfinite(values).any() else math.nan


@dataclass(frozen=True)
class TipReading:
    """The input image around a tip, as :func:`trail_ratio` and the trail's follower read it.

    Attributes:
        crop: grey levels around the tip, blurred by a pixel.
        origin: ``(x, y)`` of the crop's top-left corner in the input image.
        tip: the tip, in crop pixels.
        direction: unit vector of the root's last millimetre, pointing on.
        side: how far beside a line the agar is read, px.
        own: the root's own darkness over its last millimetre (at least
            :data:`MIN_LEVEL`).
    """

    crop: np.ndarray
    origin: np.ndarray
    tip: np.ndarray
    direction: np.ndarray
    side: float
    own: float

    def darkness(self, start: np.ndarray, direction: np.ndarray, length_px: float) -> float:
        """Median darkness along ``length_px`` from ``start`` (crop px) in ``direction``."""
        along = np.arange(0.0, length_px, _STEP_PX)
        return _darkness(self.crop, start + along[:, None] * direction, direction, self.side)


def read_tip(
    path: np.ndarray, image: np.ndarray, *, px_per_mm: float, reach_mm: float
) -> TipReading | None:
    """The image within ``reach_mm`` of the path's tip and the root's own darkness there.

    ``None`` when the path has no direction, is shorter than
    :data:`MIN_ROOT_MM`, or its tip's surroundings lie off the image.

    Raises:
        ValueError: ``px_per_mm`` is not positive.
    """
    if px_per_mm <= 0:
        raise ValueError(f"px_per_mm must be positive, got {px_per_mm}")
    points = np.asarray(path, np.float64).reshape(-1, 2)
    direction = end_direction(points, px_per_mm, at_start=False)
    length = arc_length(points)
    if direction is None or length < MIN_ROOT_MM * px_per_mm:
        return None
    side = max(3.0, _SIDE_MM * px_per_mm)
    crop, origin = grey_window(np.asarray(image), points[-1], reach_mm * px_per_mm + side + 4.0)
    if crop.size == 0:
        return None
    local = points[-1] - origin
    span = min(px_per_mm, 0.7 * length)
    behind = np.arange(-span, -0.2 * px_per_mm, _STEP_PX)
    own = _darkness(crop, local + behind[:, None] * direction, direction, side)
    if not math.isfinite(own):
        return None
    return TipReading(crop, origin, local, direction, side, max(abs(own), MIN_LEVEL))


def trail_ratio(path: np.ndarray, image: np.ndarray, *, px_per_mm: float) -> float | None:
    """How dark the image goes on beyond the tip, as a share of the root's own darkness.

    Args:
        path: ``(K, 2)`` primary-root polyline ``(x, y)`` from start to tip,
            in *input-image* pixels.
        image: the input image (grey, or colour whose first channel is used).
        px_per_mm: the image's resolution.

    Returns:
        The ratio (0 or more; see the module docstring), or ``None`` when the
        path has no direction, its surroundings lie off the image, or it is
        shorter than :data:`MIN_ROOT_MM`.

    Raises:
        ValueError: ``px_per_mm`` is not positive.
    """
    reading = read_tip(path, image, px_per_mm=px_per_mm, reach_mm=TRAIL_FAR_MM)
    return None if reading is None else reading_ratio(reading, px_per_mm)


def reading_ratio(reading: TipReading, px_per_mm: float) -> float | None:
    """:func:`trail_ratio` on a :class:`TipReading` that reaches :data:`TRAIL_FAR_MM` or more."""
    near, far = TRAIL_NEAR_MM * px_per_mm, TRAIL_FAR_MM * px_per_mm
    rays = np.arange(-TRAIL_DEG, TRAIL_DEG + 1e-9, TRAIL_STEP_DEG)
    ahead = [
        reading.darkness(reading.tip + near * ray, ray, far - near)
        for ray in (rotate(reading.direction, float(d)) for d in rays)
    ]
    known = [v for v in ahead if math.isfinite(v)]
    if not known:
        return None
    return max(0.0, max(known)) / reading.own


def trail_factor(ratio: float | None) -> float:
    """``tip_trail`` for a :func:`trail_ratio` (1 when it could not be measured)."""
    if ratio is None or not math.isfinite(ratio):
        return 1.0
    share = (ratio - TRAIL_CLEAR) / (TRAIL_FULL - TRAIL_CLEAR)
    return float(min(1.0, max(TRAIL_FLOOR, 1.0 - share * (1.0 - TRAIL_FLOOR))))
