"""How sure each landmark is: products of measurable factors, each in [0, 1].

Every factor rises with how sure we are, so the product does too, and a
later calibration on validation data (isotonic or Platt) can map it to "the
chance the landmark is within 1 mm". The factors are reported separately in
:attr:`PlantLandmarks.components <visionkit.landmarks.PlantLandmarks>`.

Start (``start_confidence = start_root * start_shoot * start_near``):

* ``start_root``: mean root probability (root or occluded root) along the
  first millimetre of the path: is there really a root here?
* ``start_shoot``: highest shoot-or-seed probability within 1 mm of the
  start: does the root really meet the seedling here?
* ``start_near``: 1 when the start lies within 0.5 mm of the plant's anchor
  (seed centroid or shoot bottom), falling linearly to 0 at the search
  radius: a root that only begins a few millimetres below the shoot may
  have lost its top.

Tip (``tip_confidence = tip_prob * tip_decisive * tip_agreement``):

* ``tip_prob``: mean root probability along the last millimetre of the
  path. Real tips are faint; a faint end may be cut short.
* ``tip_decisive``: ``1 - rival / best``, where ``best`` is the primary
  path's score and ``rival`` the best score of any other path of the plant
  ending more than 1 mm away (see :mod:`visionkit.landmarks.primary`). 1 when
  nothing competes, near 0 when a lateral or a crossing root was almost as
  good a continuation.
* ``tip_agreement`` (only with ``tip_agreement`` points, e.g. the tips found on
  test-time-augmented predictions): ``exp(-rms² / 2)`` where ``rms`` is the
  root-mean-square distance, in millimetres, from this tip to the points
  attributed to it (each point goes to the nearest tip found, if within
  5 mm). 0.61 at 1 mm spread, 0.14 at 2 mm; 0 when no point agrees.

Every ambiguity a robot should know about multiplies in as well (``priors``,
each in [0, 1], reported under its own name):

* ``tip_count`` and ``tip_row``: the plate's plants against the Hades row
  (:mod:`visionkit.landmarks.row`): a plant count other than sown, or a plant
  off the evenly spaced row.
* ``tip_neighbour``: :data:`NEIGHBOUR_FACTOR` when a neighbouring seedling
  has no root of its own: its root may be the one this plant's path took.
* ``tip_crossing``: :data:`CROSSING_FACTOR` when the path shares root with
  another plant's path (roots that cross or touch): which root leaves the
  crossing where is a guess from continuity.
* ``tip_end``: :data:`CUT_FACTOR` when the path ends where root goes on
  (a junction, not an end of the root graph): the search stopped it there,
  because another plant's path took the way on, so the root may be cut at
  the meeting point.
* ``tip_size``: ``sqrt(length / 5 mm)`` for a primary root shorter than
  5 mm (at least 0.3): on a tiny root a pixel or two at working scale is a
  large share of the root, and the tip's place is least sure.
* ``tip_course``: the smallest relative turn factor along the path (see
  :mod:`visionkit.landmarks.primary`), at least 0.3: 1 when the path always
  took the straightest way on, lower when it turned off the primary's
  course onto what may be a lateral ending lower.
* ``tip_ahead``: ``1 - p``, where ``p`` is the highest root probability in
  a narrow cone beyond the tip (1 to :data:`AHEAD_MM` mm on, within
  :data:`AHEAD_DEG` degrees of the root's last millimetre, along each ray
  only past its first gap; at least 0.05):
  root that goes on after a gap means the tip may sit where the root only
  fades (a faint stretch, a droplet) and the real tip lies further on.

Two more doubts need the input image at full resolution, so the pipeline
adds them once the landmarks are mapped back (:func:`visionkit.pipeline.Predictor`):

* ``tip_trail``: the image still shows the root going on, faintly, beyond a
  tip the map ends at cleanly (:mod:`visionkit.landmarks.trail`).
* ``tip_followed``: the tip was followed along such a trail on the image
  (:mod:`visionkit.landmarks.follow`), so its end was read on a faint line.

How strong each prior is (``tip_prob`` and ``tip_decisive`` included) is
fitted on validation plates by ``visionkit evaluate --fit-tips``
(:mod:`visionkit.landmarks.tip_calibration`); the model's fitted
calibration turns these factors into the tip's confidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "agreement_factors",
    "ahead_factor",
    "course_factor",
    "mean_along",
    "size_factor",
    "start_confidence",
    "tip_confidence",
]

#: Agreement points farther than this from every tip found are ignored.
AGREEMENT_RADIUS_MM = 5.0

#: ``tip_neighbour`` when a neighbouring seedling has no root of its own.
NEIGHBOUR_FACTOR = 0.6

#: ``tip_crossing`` when a plant's path shares root with another plant's.
CROSSING_FACTOR = 0.75

#: ``tip_end`` when the path ends where root goes on.
CUT_FACTOR = 0.3

#: Primary roots shorter than this (mm) get ``tip_size`` below 1.
TINY_ROOT_MM = 5.0

#: ``tip_ahead`` looks this far beyond the tip (mm), from 1 mm on.
AHEAD_MM = 6.0

#: ... within this many degrees either side of the root's last millimetre.
AHEAD_DEG = 20.0

#: Root probability below which a ray beyond the tip has left the root.
AHEAD_GAP = 0.2


def course_factor(turns: Sequence[float]) -> float:
    """``tip_course``: the smallest relative turn factor of a path, between 0.3 and 1."""
    return float(np.clip(min(turns, default=1.0), 0.3, 1.0))


def size_factor(length_mm: float) -> float:
    """``tip_size``: ``sqrt(length / TINY_ROOT_MM)``, between 0.3 and 1."""
    return float(np.clip(np.sqrt(max(length_mm, 0.0) / TINY_ROOT_MM), 0.3, 1.0))


def ahead_factor(root: np.ndarray, path: np.ndarray, px_per_mm: float) -> float:
    """``tip_ahead``: 1 minus the highest root probability in the cone beyond the tip."""
    if len(path) < 2:
        return 1.0
    tip = path[-1].astype(np.float64)
    steps = np.hypot(*np.diff(path[::-1], axis=0).T)
    back = path[::-1][min(int(np.searchsorted(np.cumsum(steps), px_per_mm)), len(path) - 1)]
    heading = tip - back.astype(np.float64)
    norm = float(np.hypot(*heading))
    if norm < 1e-6:
        return 1.0
    angle = np.arctan2(heading[1], heading[0])
    spread = np.deg2rad(np.arange(-AHEAD_DEG, AHEAD_DEG + 1e-9, 5.0))
    reach = np.arange(px_per_mm, AHEAD_MM * px_per_mm + 1e-9, max(0.5, px_per_mm / 4.0))
    a, r = np.meshgrid(angle + spread, reach)
    points = np.stack([tip[0] + r * np.cos(a), tip[1] + r * np.sin(a)], axis=-1).reshape(-1, 2)
    h, w = root.shape
    inside = (points[:, 0] >= 0) & (points[:, 0] <= w - 1) & (points[:, 1] >= 0)
    inside &= points[:, 1] <= h - 1
    if not inside.any():
        return 1.0
    values = np.where(inside, _sample(root, points), 0.0).reshape(r.shape)
    # Along each ray, only what lies past the first gap counts: the root's own
    # rounded end (a pixel or two beyond the traced tip) is not root going on.
    gap = values < AHEAD_GAP
    past = np.cumsum(gap, axis=0) > 0
    best = float(np.where(past, values, 0.0).max())
    return float(np.clip(1.0 - best, 0.05, 1.0))


def _sample(prob: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = prob.shape
    x = np.clip(np.rint(points[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.rint(points[:, 1]).astype(int), 0, h - 1)
    return prob[y, x].astype(np.float64)


def mean_along(prob: np.ndarray, path: np.ndarray, length_px: float, from_end: bool) -> float:
    """Mean of ``prob`` at path points within ``length_px`` (arc length) of one end."""
    if len(path) == 0:
        return 0.0
    pts = path[::-1] if from_end else path
    if len(pts) > 1:
        steps = np.hypot(*np.diff(pts, axis=0).T)
        covered = np.concatenate([[0.0], np.cumsum(steps)])
        pts = pts[covered <= max(length_px, 0.0)]
    return float(np.clip(_sample(prob, pts).mean(), 0.0, 1.0))


def _disk_max(probs: Sequence[np.ndarray], xy: tuple[float, float], radius: float) -> float:
    """The highest value of any of ``probs`` within ``radius`` of ``xy``."""
    h, w = probs[0].shape
    r = max(1, int(np.ceil(radius)))
    cx, cy = round(xy[0]), round(xy[1])
    x0, x1 = max(0, cx - r), min(w, cx + r + 1)
    y0, y1 = max(0, cy - r), min(h, cy + r + 1)
    if x0 >= x1 or y0 >= y1:
        return 0.0
    yy, xx = np.mgrid[y0:y1, x0:x1]
    inside = (xx - xy[0]) ** 2 + (yy - xy[1]) ** 2 <= radius**2
    best = max(float(p[y0:y1, x0:x1][inside].max()) for p in probs) if inside.any() else 0.0
    return float(np.clip(best, 0.0, 1.0))


def start_confidence(
    root: np.ndarray,
    shoot: np.ndarray | Sequence[np.ndarray],
    path: np.ndarray,
    anchor: tuple[float, float],
    *,
    px_per_mm: float,
    search_radius_px: float,
) -> tuple[float, dict[str, float]]:
    """The start's confidence and its factors (see the module docstring).

    ``shoot`` is the shoot map, or several maps (shoot and seed) whose
    highest value counts.
    """
    start = (float(path[0, 0]), float(path[0, 1]))
    on_root = mean_along(root, path, px_per_mm, from_end=False)
    maps = [shoot] if isinstance(shoot, np.ndarray) else list(shoot)
    near_shoot = _disk_max(maps, start, px_per_mm)
    gap = float(np.hypot(start[0] - anchor[0], start[1] - anchor[1])) - 0.5 * px_per_mm
    span = max(search_radius_px - 0.5 * px_per_mm, 1e-9)
    near = float(np.clip(1.0 - max(gap, 0.0) / span, 0.0, 1.0))
    parts = {"start_root": on_root, "start_shoot": near_shoot, "start_near": near}
    return on_root * near_shoot * near, parts


def agreement_factors(
    tips: Sequence[tuple[float, float] | None],
    points: Sequence[tuple[float, float]],
    px_per_mm: float,
) -> list[float]:
    """Per tip, ``exp(-rms² / 2)`` of the agreement points attributed to it (rms in mm)."""
    found = [(i, t) for i, t in enumerate(tips) if t is not None]
    factors = [0.0] * len(tips)
    if not found:
        return factors
    where = np.array([t for _, t in found], np.float64)
    attributed: list[list[float]] = [[] for _ in tips]
    for p in points:
        d = np.hypot(where[:, 0] - p[0], where[:, 1] - p[1]) / px_per_mm
        k = int(np.argmin(d))
        if d[k] <= AGREEMENT_RADIUS_MM:
            attributed[found[k][0]].append(float(d[k]))
    for i, dists in enumerate(attributed):
        if dists:
            rms = float(np.sqrt(np.mean(np.square(dists))))
            factors[i] = float(np.exp(-0.5 * rms**2))
    return factors


def tip_confidence(
    root: np.ndarray,
    path: np.ndarray,
    *,
    px_per_mm: float,
    best_score: float,
    rival_score: float,
    agreement: float | None = None,
    priors: Mapping[str, float] | None = None,
) -> tuple[float, dict[str, float]]:
    """The tip's confidence and its factors (see the module docstring).

    ``priors`` are further factors by name (``tip_row``, ``tip_size``...).
    """
    faint = mean_along(root, path, px_per_mm, from_end=True)
    decisive = 1.0 - rival_score / best_score if best_score > 0 else 0.0
    decisive = float(np.clip(decisive, 0.0, 1.0))
    parts = {"tip_prob": faint, "tip_decisive": decisive}
    value = faint * decisive
    if agreement is not None:
        parts["tip_agreement"] = float(np.clip(agreement, 0.0, 1.0))
        value *= parts["tip_agreement"]
    for name, factor in (priors or {}).items():
        parts[name] = float(np.clip(factor, 0.0, 1.0))
        value *= parts[name]
    return float(np.clip(value, 0.0, 1.0)), parts
