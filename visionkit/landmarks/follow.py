"""Follow a root that fades on beyond the map's tip, on the input image.

Where a root fades into the agar the model's map ends first, and the tip
found on it lies millimetres short of the root's real end (the real plate's
faint tips are only 8-10 grey levels below the agar). When the image beyond
the tip still shows the root going on (:func:`~visionkit.landmarks.trail.trail_ratio`
at least :data:`FOLLOW_RATIO`), :func:`follow_trail` walks along it at full
resolution: every :data:`FOLLOW_STEP_MM`, it looks :data:`FOLLOW_LOOK_MM`
ahead in directions within :data:`FOLLOW_TURN_DEG` degrees of its heading,
takes the darkest, and goes on while that is at least :data:`FOLLOW_KEEP`
of the root's own darkness, for at most :data:`FOLLOW_MAX_MM`. A followed
tip carries the ``tip_followed`` doubt (:data:`FOLLOWED_FACTOR`): its end
was read on a faint line, not on the model's map.

The thresholds were chosen on development and validation plates: of 28 tips
followed there, 14 moved from more than 1 mm off to within 1 mm of the
truth and one moved out (ratio 0.4 and keep 0.4 moved 17 in and 2 out,
ratio 0.7 moved 11 in and none out).
"""

from __future__ import annotations

import numpy as np

from visionkit.landmarks.trail import TRAIL_FAR_MM, read_tip, reading_ratio, rotate

__all__ = [
    "FOLLOWED_FACTOR",
    "FOLLOW_KEEP",
    "FOLLOW_LOOK_MM",
    "FOLLOW_MAX_MM",
    "FOLLOW_RATIO",
    "FOLLOW_STEP_MM",
    "FOLLOW_TURN_DEG",
    "follow_trail",
]

#: A tip is followed when the trail beyond it is at least this dark, as a
#: share of the root's own darkness (:func:`~visionkit.landmarks.trail.trail_ratio`).
FOLLOW_RATIO = 0.5

#: ... and on while the darkest way ahead is at least this share of it.
FOLLOW_KEEP = 0.5

#: Each step of the walk, mm.
FOLLOW_STEP_MM = 0.25

#: How far ahead each step looks, mm.
FOLLOW_LOOK_MM = 0.75

#: The largest turn per step, degrees either way (tried every 5 degrees).
FOLLOW_TURN_DEG = 15

#: The longest walk, mm: a fade-cut tip on the development plates lay 2-5 mm
#: short of the real one.
FOLLOW_MAX_MM = 6.0

#: ``tip_followed`` for a tip moved along a trail (its strength is fitted with
#: the other doubts, :mod:`~visionkit.landmarks.tip_calibration`).
FOLLOWED_FACTOR = 0.7


def follow_trail(path: np.ndarray, image: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """``path`` carried on along the faint root the image shows beyond its tip.

    ``path``, ``image`` and ``px_per_mm`` are as for
    :func:`~visionkit.landmarks.trail.trail_ratio` (input-image pixels).

    Returns:
        ``path`` with the walked points appended (a step every
        :data:`FOLLOW_STEP_MM`), or ``path`` itself when there is no trail
        to follow (see the module docstring).

    Raises:
        ValueError: ``px_per_mm`` is not positive.
    """
    points = np.asarray(path, np.float64).reshape(-1, 2)
    reach = max(FOLLOW_MAX_MM + FOLLOW_LOOK_MM, TRAIL_FAR_MM)
    reading = read_tip(points, image, px_per_mm=px_per_mm, reach_mm=reach)
    ratio = None if reading is None else reading_ratio(reading, px_per_mm)
    if reading is None or ratio is None or ratio < FOLLOW_RATIO:
        return points
    step, look = FOLLOW_STEP_MM * px_per_mm, FOLLOW_LOOK_MM * px_per_mm
    turns = range(-FOLLOW_TURN_DEG, FOLLOW_TURN_DEG + 1, 5)
    here, heading = reading.tip.copy(), reading.direction
    walked: list[np.ndarray] = []
    while len(walked) * step < FOLLOW_MAX_MM * px_per_mm:
        ways = [rotate(heading, float(t)) for t in turns]
        dark = [reading.darkness(here, way, look) for way in ways]
        best = int(np.nanargmax(np.nan_to_num(dark, nan=-np.inf)))
        if not dark[best] >= FOLLOW_KEEP * reading.own:  # NaN (off the image) stops too
            break
        heading = ways[best]
        here = here + step * heading
        walked.append(here + reading.origin)
    if not walked:
        return points
    return np.vstack([points, np.asarray(walked)])
