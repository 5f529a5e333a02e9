"""What a person knows about a Hades plate's row of seedlings, as confidence factors.

The seedlings are sown in one row near the top of the dish, roughly evenly
spaced. A plate that breaks that pattern is a reason for doubt, not a guess:

* ``tip_count`` (every plant): 1 when as many plants were found as were
  sown, else :data:`COUNT_FACTOR`. A plant too many or too few means one
  was split, merged, missed or made up, and any of them may be mis-numbered.
* ``tip_row`` (per plant): how well the plant sits on an evenly spaced row.
  The spacing is the median gap between neighbours (a missing plant leaves a
  gap of twice the spacing, which is fine); a gap off every whole multiple
  of it by more than 15 % of the spacing, or an anchor more than 4 mm above
  or below the row's median height, lowers the factor linearly to 0.5 at
  50 % (or 10 mm). With fewer than three plants there is no spacing and the
  factor is 1.

The same picture chooses the plants when the shoot map offers more
candidates than were sown (:func:`pick_row`): not the heaviest ones, but the
set that best makes one flat, evenly spaced row; a blob on the rim beside the
row, a heavy speck of debris just below it or a droplet between two seedlings
breaks the spacing or the row's line and is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

__all__ = ["COUNT_FACTOR", "count_factor", "pick_row", "row_factors"]

#: ``tip_count`` when the plants found are not the plants sown.
COUNT_FACTOR = 0.85

#: What leaving one more sown plant out costs in :func:`pick_row`, against
#: a row whose spacing is off by this share of a spacing on average.
MISSING_COST = 0.5

#: :func:`pick_row` weighs at most this many candidates, the heaviest
#: (462 sets of 4 or 5 out of 10: a millisecond).
POOL = 10


def count_factor(found: int, expected: int) -> float:
    """``tip_count``: 1 when ``found == expected``, else :data:`COUNT_FACTOR`."""
    return 1.0 if found == expected else COUNT_FACTOR


def _ramp(excess: float, span: float) -> float:
    """1 at ``excess <= 0`` falling linearly to 0.5 at ``excess == span``, not below."""
    return float(np.clip(1.0 - 0.5 * max(excess, 0.0) / span, 0.5, 1.0))


def row_factors(anchors: Sequence[tuple[float, float]], px_per_mm: float) -> list[float]:
    """``tip_row`` per anchor ``(x, y)``, sorted left to right (see the module docstring)."""
    n = len(anchors)
    if n == 0:
        return []
    xs = np.array([a[0] for a in anchors], np.float64)
    ys = np.array([a[1] for a in anchors], np.float64)
    off_row = np.abs(ys - np.median(ys)) / px_per_mm
    factors = [_ramp(d - 4.0, 6.0) for d in off_row]
    if n < 3:
        return factors
    gaps = np.diff(xs)
    spacing = float(np.median(gaps))
    if spacing <= 0:
        return factors
    # Each gap should be a whole number (>= 1) of spacings.
    multiple = np.maximum(np.rint(gaps / spacing), 1.0)
    miss = np.abs(gaps - multiple * spacing) / spacing
    for i in range(n):
        worst = max(miss[i - 1] if i > 0 else 0.0, miss[i] if i < n - 1 else 0.0)
        factors[i] = min(factors[i], _ramp(float(worst) - 0.15, 0.35))
    return factors


def _row_costs(xs: np.ndarray, ys: np.ndarray, share: np.ndarray, px_per_mm: float) -> np.ndarray:
    """How badly each set of candidates (rows of ``xs``/``ys``, sorted by x) makes a row.

    The sum of: the mean height off the set's median beyond 2 mm, in units
    of 2 mm (seeds are sown on a line; a candidate 7 mm off costs as much
    as a missing plant in a row of five); twice the mean miss of each gap from a
    whole number of spacings, as a share of the spacing (its median gap),
    and :data:`MISSING_COST` for each hole inside the row; and, a fifth
    as much, the mass the set leaves out of the heaviest possible one
    (``1 - share``), so that of two equally good rows the real plants, not
    paler blobs, win.
    """
    off = np.abs(ys - np.median(ys, axis=1, keepdims=True)) - 2.0 * px_per_mm
    flat = np.maximum(off, 0.0).mean(axis=1) / (2.0 * px_per_mm)
    even = np.zeros(len(xs))
    if xs.shape[1] >= 3:
        gaps = np.diff(xs, axis=1)
        spacing = np.maximum(np.median(gaps, axis=1, keepdims=True), 1.0)
        multiple = np.maximum(np.rint(gaps / spacing), 1.0)
        miss = np.abs(gaps - multiple * spacing) / spacing
        even = 2.0 * miss.mean(axis=1) + MISSING_COST * (multiple - 1.0).sum(axis=1)
    return flat + even + 0.2 * (1.0 - share)


def pick_row(
    anchors: Sequence[tuple[float, float]],
    masses: Sequence[float],
    expected: int,
    px_per_mm: float,
) -> list[int]:
    """Which of more than ``expected`` candidates ``(x, y)`` are the sown row, by index.

    Of the :data:`POOL` heaviest candidates, every set of ``expected`` (and
    of ``expected - 1``, at :data:`MISSING_COST`: a seedling may be missing
    while debris looks like one) is scored by :func:`_row_costs`; the
    cheapest wins. Returned sorted left to right. With ``expected`` or
    fewer candidates every index is returned: nothing to choose.
    """
    n = len(anchors)
    if n <= expected:
        return sorted(range(n), key=lambda i: anchors[i][0])
    weight = np.asarray(masses, np.float64)
    pool = sorted(np.argsort(-weight, kind="stable")[:POOL].tolist(), key=lambda i: anchors[i][0])
    xs = np.array([anchors[i][0] for i in pool], np.float64)
    ys = np.array([anchors[i][1] for i in pool], np.float64)
    heaviest = float(np.sort(weight[pool])[::-1][:expected].sum()) or 1.0
    best: tuple[float, tuple[int, ...]] | None = None
    for size in (expected, expected - 1):
        if size < 1 or size > len(pool):
            continue
        sets = np.array(list(combinations(range(len(pool)), size)), np.intp)
        share = weight[np.asarray(pool)[sets]].sum(axis=1) / heaviest
        costs = _row_costs(xs[sets], ys[sets], share, px_per_mm)
        costs += MISSING_COST * (expected - size)
        k = int(np.argmin(costs))
        if best is None or costs[k] < best[0]:
            best = (float(costs[k]), tuple(int(i) for i in sets[k]))
    assert best is not None  # n > expected >= 1, so the first size always has a set
    return [pool[i] for i in best[1]]
