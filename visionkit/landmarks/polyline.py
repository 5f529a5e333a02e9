"""Pixel paths to smooth polylines, and their arc length.

A path walked pixel by pixel is a staircase: summing its steps measures a
straight line at 22.5° about 8 % too long. Smoothing the coordinates along
the path with a Gaussian (``sigma`` pixels) and then keeping a point every
``step`` pixels removes the staircase while leaving real bends, whose radius
is many pixels, alone; the first and last points stay where they were.
"""

from __future__ import annotations

import numpy as np

__all__ = ["arc_length", "outward_direction", "smooth_path"]


def arc_length(points: np.ndarray) -> float:
    """Sum of the segment lengths of a ``(K, 2)`` polyline (0 for fewer than 2 points)."""
    if len(points) < 2:
        return 0.0
    steps = np.diff(points, axis=0)
    return float(np.hypot(steps[:, 0], steps[:, 1]).sum())


def smooth_path(points: np.ndarray, sigma: float = 2.0, step: int = 3) -> np.ndarray:
    """The path smoothed along its length and thinned to about one point per ``step``.

    Args:
        points: ``(K, 2)`` pixel path ``(x, y)``, consecutive pixels adjacent.
        sigma: Gaussian sigma in path samples (pixels).
        step: keep every ``step``-th smoothed point (plus the last).
    """
    from scipy.ndimage import gaussian_filter1d

    points = np.asarray(points, np.float64)
    if len(points) < 3:
        return points.copy()
    smooth = gaussian_filter1d(points, sigma, axis=0, mode="nearest")
    smooth[0], smooth[-1] = points[0], points[-1]
    keep = np.arange(0, len(points), max(1, int(step)))
    if keep[-1] != len(points) - 1:
        keep = np.append(keep, len(points) - 1)
    return smooth[keep]


def outward_direction(points: np.ndarray, span_px: float) -> np.ndarray | None:
    """The unit vector pointing out of a polyline's first point, judged over ``span_px``.

    From the point ``span_px`` along ``points`` back to ``points[0]``;
    ``None`` for a path without length. Pass ``points[::-1]`` for the last point.
    """
    steps = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    k = int(np.searchsorted(along, span_px))
    k = min(max(k, 1), len(points) - 1)
    out = points[0] - points[k]
    norm = float(np.hypot(*out))
    return None if norm < 1e-6 else out / norm
