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

from visionkit.landmarks.walk import end_direction, steps

__all__ = ["MAX_EXTENSION_MM", "extend_to_root_end"]

#: The farthest the tip may move on, in mm: a root's half width and a margin.
MAX_EXTENSION_MM = 0.5


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
    direction = end_direction(points, px_per_mm, at_start=False)
    if direction is None:
        return points.copy()
    tip = points[-1]
    reached = 0.0
    for distance, _, x, y in steps(tip, direction, MAX_EXTENSION_MM * px_per_mm, root.shape):
        if root[y, x] < threshold:
            break
        reached = distance
    moved = reached - 0.5  # from the last pixel's edge back to its centre
    if moved <= 0.0:
        return points.copy()
    return np.vstack([points, (tip + moved * direction)[None, :]])
