"""Find the seedlings from the shoot and seed maps.

Each plant is a group of shoot/seed blobs (leaves, hypocotyl and seed are
often separate blobs at the working scale, so blobs closer than
``merge_mm`` are one plant). Specks smaller than ``min_area_mm2`` are
ignored. Plants are sown in a row, so the heaviest ones (sum of
probability) set the row's height, candidates far above or below it are
dropped (from three candidates on), and when more than ``expected`` are
left, the set that best makes one flat, evenly spaced row is kept
(:func:`~visionkit.landmarks.row.pick_row`), not simply the heaviest.
Each plant is *anchored* where its root should begin: the seed's centroid
when a seed is seen, else the bottom of the shoot (the end of the
hypocotyl). The bottom of the plant's blobs is kept too, as ``base``: a seed
coat can hang beside a long hypocotyl, millimetres above the root, and the
root search falls back to the base when nothing starts near the seed.

What a person knows about a Hades plate decides the rest:

* Seedlings grow inside the dish, never on its wall: a group whose pixels
  come within ``wall_mm`` of the dish's edge (the maps' edge, or
  ``dish_bbox`` when given) is the rim, not a plant, however much of it the
  model calls shoot.
* One seedling is one plant: groups that overlap left to right (within
  ``split_mm``) and lie less than ``stack_mm`` apart up and down are the
  leaves and the hypocotyl/seed of one seedling that the working scale broke
  apart, so they become one plant anchored on their union.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from visionkit.landmarks.row import pick_row

__all__ = ["PlantAnchor", "find_plants"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlantAnchor:
    """A seedling found in the shoot/seed maps.

    Attributes:
        x, y: where its root search starts (seed centroid or shoot bottom).
        bbox: ``(x0, y0, x1, y1)`` of the shoot and seed pixels, exclusive ends.
        area: shoot/seed pixels.
        mass: sum of the shoot/seed probability over those pixels.
        has_seed: whether a seed was seen (then ``(x, y)`` is its centroid).
        base: the bottom of the plant's shoot and seed pixels; ``None`` when
            it is ``(x, y)`` itself.
    """

    x: float
    y: float
    bbox: tuple[int, int, int, int]
    area: int
    mass: float
    has_seed: bool
    base: tuple[float, float] | None = None


def _crop(mask: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
    """The bounding box of ``mask``'s set pixels: ``((x0, y0), crop)``; an empty crop if none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return (0, 0), mask[:0, :0]
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0])), mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _bottom(mine: np.ndarray) -> tuple[float, float]:
    """The middle of the lowest two rows of ``mine``."""
    ys, xs = np.nonzero(mine)
    bottom = ys.max()
    low = ys >= bottom - 1
    return float(xs[low].mean()), float(bottom)


def _anchor(mine: np.ndarray, seed: np.ndarray | None) -> tuple[float, float, bool]:
    """Where a plant's root should begin, in ``mine``'s coordinates, and whether a seed says so."""
    if seed is not None:
        seeds = mine & seed
        if seeds.any():
            ys, xs = np.nonzero(seeds)
            return float(xs.mean()), float(ys.mean()), True
    x, y = _bottom(mine)
    return x, y, False


def _merge_stacked(
    boxes: list[tuple[int, int, int, int]], split_px: float, stack_px: float
) -> list[list[int]]:
    """Groups of box indices that are one seedling: overlapping in x, stacked close in y."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            x_gap = max(b[0] - a[2], a[0] - b[2])
            y_gap = max(b[1] - a[3], a[1] - b[3])
            if x_gap <= split_px and y_gap <= stack_px:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def find_plants(
    shoot_prob: np.ndarray,
    seed_prob: np.ndarray | None = None,
    *,
    expected: int = 5,
    px_per_mm: float = 10.0,
    threshold: float = 0.5,
    merge_mm: float = 2.0,
    min_area_mm2: float = 0.1,
    row_tolerance_mm: float = 12.0,
    wall_mm: float = 4.0,
    dish_bbox: tuple[float, float, float, float] | None = None,
    split_mm: float = -1.0,
    stack_mm: float = 8.0,
) -> list[PlantAnchor]:
    """The seedlings in the maps, left to right (at most ``expected`` of them).

    Args:
        shoot_prob: shoot probability, ``H x W`` in [0, 1].
        seed_prob: seed probability, same shape, or ``None``.
        expected: how many plants the dish holds.
        px_per_mm: the maps' resolution.
        threshold: probability above which a pixel is shoot or seed.
        merge_mm: blobs closer than this belong to one plant.
        min_area_mm2: smaller groups are specks, not plants.
        row_tolerance_mm: candidates whose anchor lies farther than this
            above or below the row of the ``expected`` heaviest ones are
            dropped (with three candidates or more); with more than
            ``expected`` left, the row is picked among them.
        wall_mm: groups reaching within this of the dish's left, right or
            top edge are the dish wall, not plants.
        dish_bbox: the dish's ``(x0, y0, x1, y1)`` in map pixels; ``None``
            takes the maps' own edges (the pipeline's maps are the dish crop).
        split_mm, stack_mm: groups whose x-ranges lie within ``split_mm``
            of each other (negative: overlap by at least that much) and that
            are less than ``stack_mm`` apart up and down are one seedling.

    Returns:
        Fewer than ``expected`` anchors when fewer plants are visible.
    """
    import cv2

    seed = None if seed_prob is None else seed_prob >= threshold
    fore = shoot_prob >= threshold
    if seed is not None:
        fore |= seed
    (ox, oy), fore = _crop(fore)
    if fore.size == 0:
        return []
    # The weights only inside the plants' bounding box: the row is a thin strip.
    box = (slice(oy, oy + fore.shape[0]), slice(ox, ox + fore.shape[1]))
    weight = shoot_prob[box]
    if seed is not None and seed_prob is not None:
        weight = np.maximum(weight, seed_prob[box])
        seed = seed[box]
    # Blobs closer than merge_mm touch once each grows by half of it.
    half = max(1, round(merge_mm * px_per_mm / 2))
    grown = cv2.dilate(
        np.ascontiguousarray(fore).view(np.uint8),
        cv2.getStructuringElement(cv2.MORPH_RECT, (2 * half + 1, 2 * half + 1)),
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        grown, connectivity=8, ltype=cv2.CV_32S
    )
    owner = labels[fore]
    areas = np.bincount(owner, minlength=count)
    masses = np.bincount(owner, weights=weight[fore], minlength=count)
    min_area = max(2.0, min_area_mm2 * px_per_mm**2)
    height, width = shoot_prob.shape
    left, top, right, _ = (
        (0.0, 0.0, float(width), float(height)) if dish_bbox is None else dish_bbox
    )
    wall = wall_mm * px_per_mm
    groups: list[int] = []
    for g in np.nonzero(areas >= min_area)[0]:
        if g == 0:
            continue
        x0, y0, w, h = (int(v) + o for v, o in zip(stats[g, :4], (ox, oy, 0, 0), strict=True))
        if x0 - left < wall or right - (x0 + w) < wall or y0 - top < wall:
            logger.debug("shoot/seed group at x=%d..%d, y=%d on the dish wall", x0, x0 + w, y0)
            continue
        groups.append(int(g))
    boxes = [
        (
            int(stats[g, 0]),
            int(stats[g, 1]),
            int(stats[g, 0] + stats[g, 2]),
            int(stats[g, 1] + stats[g, 3]),
        )
        for g in groups
    ]
    candidates: list[PlantAnchor] = []
    for members in _merge_stacked(boxes, split_mm * px_per_mm, stack_mm * px_per_mm):
        ids = [groups[i] for i in members]
        x0 = min(boxes[i][0] for i in members)
        y0 = min(boxes[i][1] for i in members)
        w = max(boxes[i][2] for i in members) - x0
        h = max(boxes[i][3] for i in members) - y0
        if len(ids) > 1:
            logger.debug("%d shoot/seed groups at x=%d merged into one seedling", len(ids), x0 + ox)
        window = labels[y0 : y0 + h, x0 : x0 + w]
        mine = np.isin(window, ids) & fore[y0 : y0 + h, x0 : x0 + w]
        ys, xs = np.nonzero(mine)
        bbox = (
            int(xs.min()) + x0 + ox,
            int(ys.min()) + y0 + oy,
            int(xs.max()) + x0 + ox + 1,
            int(ys.max()) + y0 + oy + 1,
        )
        seeds = None if seed is None else seed[y0 : y0 + h, x0 : x0 + w]
        x, y, has_seed = _anchor(mine, seeds)
        base = None
        if has_seed:
            bx, by = _bottom(mine)
            base = (bx + x0 + ox, by + y0 + oy)
        candidates.append(
            PlantAnchor(
                x + x0 + ox,
                y + y0 + oy,
                bbox,
                int(areas[ids].sum()),
                float(masses[ids].sum()),
                has_seed,
                base,
            )
        )
    candidates.sort(key=lambda p: -p.mass)
    if len(candidates) >= 3:
        # Two candidates cannot say which of them is off the row.
        row = float(np.median([p.y for p in candidates[:expected]]))
        tolerance = row_tolerance_mm * px_per_mm
        kept = [p for p in candidates if abs(p.y - row) <= tolerance]
        logger.debug(
            "%d plant candidates for %d plants; %d near the row at y=%.0f",
            len(candidates),
            expected,
            len(kept),
            row,
        )
        picked = pick_row([(p.x, p.y) for p in kept], [p.mass for p in kept], expected, px_per_mm)
        candidates = [kept[i] for i in picked]
    return sorted(candidates, key=lambda p: p.x)
