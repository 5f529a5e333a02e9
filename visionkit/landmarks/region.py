"""Keep only the root pixels that can belong to the plants, and skeletonize just those.

A plate's root map holds more than roots: a dark streak, a bubble's ring,
fibres, specks. Roots start at the plants, so the search starts there: the
connected pieces of the root mask within ``start_radius_px`` of an anchor
are kept, then, repeatedly, any piece whose bounding box lies within
``gap_px`` of a kept one (a root broken by a faint stretch or a droplet).
Anything farther is never skeletonized, which also keeps the work small:
only the bounding box of the kept pieces is thinned, not the whole plate.

Given the root probability and a ``strong`` threshold, the mask is the
*faint* one (pixels above a lower threshold) and a piece counts only when
one of its pixels reaches ``strong``: a hysteresis, taken in the same
connected-components pass over the window below the plants, so a root that
fades keeps its faint stretch while faint specks on their own stay out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["RootRegion", "root_region"]


@dataclass(frozen=True)
class RootRegion:
    """The kept root pixels: a crop of the mask and where it sits.

    Attributes:
        mask: ``h x w`` bool, only the kept pieces set.
        origin: ``(x, y)`` of the crop's top-left pixel in the full maps.
    """

    mask: np.ndarray
    origin: tuple[int, int]

    @property
    def empty(self) -> bool:
        """No root pixel was kept."""
        return not self.mask.any()


def _box_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between every box in ``a`` and every box in ``b`` (``x0, y0, x1, y1``)."""
    dx = np.maximum(b[None, :, 0] - a[:, None, 2], a[:, None, 0] - b[None, :, 2])
    dy = np.maximum(b[None, :, 1] - a[:, None, 3], a[:, None, 1] - b[None, :, 3])
    return np.hypot(np.maximum(dx, 0), np.maximum(dy, 0))


def root_region(
    root_mask: np.ndarray,
    anchors: Sequence[tuple[float, float]],
    *,
    start_radius_px: float,
    gap_px: float,
    min_area_px: int = 3,
    prob: np.ndarray | None = None,
    strong: float | None = None,
) -> RootRegion:
    """The root pieces reachable from the anchors (see the module docstring).

    Args:
        root_mask: ``H x W`` bool root (and occluded-root) mask.
        anchors: ``(x, y)`` where each plant's root should begin.
        start_radius_px: how far below (or beside) an anchor its root may begin.
        gap_px: the largest gap bridged between pieces.
        min_area_px: smaller pieces are noise.
        prob, strong: the root probability map (shape of ``root_mask``) and
            a threshold: when both are given, only pieces holding a pixel
            with ``prob >= strong`` are usable (hysteresis, see above).
    """
    import cv2

    if not anchors:
        return RootRegion(np.zeros((0, 0), bool), (0, 0))
    top = max(0, int(min(y for _, y in anchors) - start_radius_px))
    rows = np.flatnonzero(root_mask[top:].any(axis=1))
    if len(rows) == 0:
        return RootRegion(np.zeros((0, 0), bool), (0, top))
    top, bottom = top + int(rows[0]), top + int(rows[-1]) + 1
    cols = np.flatnonzero(root_mask[top:bottom].any(axis=0))
    left, right = int(cols[0]), int(cols[-1]) + 1
    sub = np.ascontiguousarray(root_mask[top:bottom, left:right])
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        sub.view(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    boxes = stats[:, :4].astype(np.float64)
    boxes[:, 2:] += boxes[:, :2] - 1  # inclusive ends
    boxes[:, [0, 2]] += left
    boxes[:, [1, 3]] += top
    usable = stats[:, 4] >= min_area_px
    if prob is not None and strong is not None:
        confident = np.zeros(len(stats), bool)
        confident[labels[prob[top:bottom, left:right] >= strong]] = True
        usable &= confident
    usable[0] = False
    points = np.array([[x, y, x, y] for x, y in anchors], np.float64)
    kept = usable & (_box_gap(points, boxes) <= start_radius_px).any(axis=0)
    frontier = kept.copy()
    while frontier.any():
        near = (_box_gap(boxes[frontier], boxes) <= gap_px).any(axis=0)
        frontier = near & usable & ~kept
        kept |= frontier
    if not kept.any():
        return RootRegion(np.zeros((0, 0), bool), (0, top))
    chosen = boxes[kept]
    x0, y0 = int(chosen[:, 0].min()), int(chosen[:, 1].min())
    x1, y1 = int(chosen[:, 2].max()) + 1, int(chosen[:, 3].max()) + 1
    crop = labels[y0 - top : y1 - top, x0 - left : x1 - left]
    return RootRegion(kept[crop], (x0, y0))
