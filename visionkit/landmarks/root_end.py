"""Carry a primary root's tip forward from its skeleton's end to the root's end.

A skeleton ends about half a root width inside the root: thinning eats a
thin root's end as it eats its sides. The tip a robot inoculates is the end
of the root itself, so :func:`extend_to_root_end` walks on from the
skeleton's last point along the root's direction while the root map stays
above the threshold, and puts the tip on the centre of the last root pixel it
crossed (the walk itself ends on that pixel's far edge).
The walk is short (:data:`MAX_EXTENSION_MM`): it finishes a root, it does
not bridge a gap (:mod:`~visionkit.landmarks.gaps` does that, with its own
evidence).
"""

from __future__ import annotations

import numpy as np

from visionkit.landmarks.polyline import arc_length, outward_direction

__all__ = ["MAX_EXTENSION_MM", "extend_to_root_end"]

#: The farthest the tip may move on, in mm: a root's half width and a margin.
MAX_EXTENSION_MM = 0.5

#: How much of the path's end gives the root's direction, in mm.
DIRECTION_MM = 0.6

#: Walking step in map pixels.
_STEP_PX = 0.5


def extend_to_root_end(
    path: np.ndarray,
    *,
    root: np.ndarray,
    px_per_mm: float,
    threshold: float = 0.5,
) -> np.ndarray:
    """``path`` with its tip moved on to the last root pixel along the root's direction.

    Args:
        path: ``(K, 2)`` primary-root polyline ``(x, y)`` from start to tip,
            in map pixels.
        root: root probability map (occluded root included), ``H x W``.
        px_per_mm: the maps' resolution.
        threshold: probability above which a pixel is root.

    Returns:
        A new ``(K', 2)`` path: a copy of ``path`` when no root pixel lies
        beyond its tip, else ``path`` followed by the root's end.
    """
    points = np.asarray(path, np.float64)
    if len(points) < 2 or px_per_mm <= 0:
        return points.copy()
    span = min(DIRECTION_MM * px_per_mm, 0.5 * arc_length(points))
    direction = outward_direction(points[::-1], max(span, 1.0))
    if direction is None:
        return points.copy()
    height, width = root.shape
    tip = points[-1]
    reached = 0.0
    for distance in np.arange(_STEP_PX, MAX_EXTENSION_MM * px_per_mm + 1e-9, _STEP_PX):
        here = tip + distance * direction
        x, y = round(float(here[0])), round(float(here[1]))
        if not (0 <= x < width and 0 <= y < height) or root[y, x] < threshold:
            break
        reached = float(distance)
    moved = reached - 0.5  # from the last pixel's edge back to its centre
    if moved <= 0.0:
        return points.copy()
    return np.vstack([points, (tip + moved * direction)[None, :]])
