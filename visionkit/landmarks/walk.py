"""Short walks out of a primary root's end, along the root's own direction.

:mod:`~visionkit.landmarks.junction` walks back from the start and
:mod:`~visionkit.landmarks.root_end` on from the tip; both need the root's
direction at that end and the points a few pixels beyond it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from visionkit.landmarks.polyline import arc_length, outward_direction

__all__ = ["DIRECTION_MM", "STEP_PX", "end_direction", "steps"]

#: How much of the path's end gives the root's direction, in mm.
DIRECTION_MM = 0.6

#: Walking step in map pixels.
STEP_PX = 0.5


def end_direction(points: np.ndarray, px_per_mm: float, *, at_start: bool) -> np.ndarray | None:
    """The unit vector pointing out of the path's start (or tip), ``None`` if it has none.

    Judged over :data:`DIRECTION_MM` of the path, or half of a shorter path.
    """
    if len(points) < 2 or px_per_mm <= 0:
        return None
    ordered = points if at_start else points[::-1]
    span = min(DIRECTION_MM * px_per_mm, 0.5 * arc_length(ordered))
    return outward_direction(ordered, max(span, 1.0))


def steps(
    origin: np.ndarray, direction: np.ndarray, max_px: float, shape: tuple[int, ...]
) -> Iterator[tuple[float, np.ndarray, int, int]]:
    """``(distance, point, x, y)`` every :data:`STEP_PX` from ``origin`` up to ``max_px``.

    ``(x, y)`` is the pixel under the point; the walk ends at the map's edge.
    """
    height, width = shape[:2]
    for distance in np.arange(STEP_PX, max_px + 1e-9, STEP_PX):
        here = origin + distance * direction
        x, y = round(float(here[0])), round(float(here[1]))
        if not (0 <= x < width and 0 <= y < height):
            return
        yield float(distance), here, x, y
