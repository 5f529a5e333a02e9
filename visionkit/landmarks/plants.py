"""Find the seedlings from the shoot and seed maps.

Each plant is a group of shoot/seed blobs (leaves, hypocotyl and seed are
often separate blobs at the working scale, so blobs closer than
``merge_mm`` are one plant). Specks smaller than ``min_area_mm2`` are
ignored. Plants are sown in a row, so when there are more candidates than
``expected`` the heaviest ones (sum of probability) set the row, candidates
far from that row are dropped, and the ``expected`` heaviest of the rest are
kept. Each plant is *anchored* where its root should begin: the seed's
centroid when a seed is seen, else the bottom of the shoot (the end of the
hypocotyl). The bottom of the plant's blobs is kept too, as ``base``: a seed
coat can hang beside a long hypocotyl, millimetres above the root, and the
root search falls back to the base when nothing starts near the seed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

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
        row_tolerance_mm: with more candidates than ``expected``, candidates
            whose anchor lies farther than this above or below the row of the
            heaviest ones are dropped.

    Returns:
        Fewer than ``expected`` anchors when fewer plants are visible.
    """
    import cv2

    seed = None if seed_prob is None else seed_prob >= threshold
    fore = shoot_prob >= threshold
    weight = shoot_prob
    if seed is not None and seed_prob is not None:
        fore = fore | seed
        weight = np.maximum(shoot_prob, seed_prob)
    (ox, oy), fore = _crop(fore)
    if fore.size == 0:
        return []
    weight = weight[oy : oy + fore.shape[0], ox : ox + fore.shape[1]]
    if seed is not None:
        seed = seed[oy : oy + fore.shape[0], ox : ox + fore.shape[1]]
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
    candidates: list[PlantAnchor] = []
    for g in np.nonzero(areas >= min_area)[0]:
        if g == 0:
            continue
        x0, y0, w, h = (int(v) for v in stats[g, :4])
        mine = (labels[y0 : y0 + h, x0 : x0 + w] == g) & fore[y0 : y0 + h, x0 : x0 + w]
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
                x + x0 + ox, y + y0 + oy, bbox, int(areas[g]), float(masses[g]), has_seed, base
            )
        )
    candidates.sort(key=lambda p: -p.mass)
    if len(candidates) > expected:
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
        candidates = kept[:expected]
    return sorted(candidates, key=lambda p: p.x)
