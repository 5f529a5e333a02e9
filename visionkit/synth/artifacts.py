"""Everything on a plate that is not a plant: droplets, bubbles, specks, fibres, scratches.

Two layers carry them into the image:

- ``shade``: a ``float32`` relative change of brightness (``-0.3`` = 30 %
  darker). Droplets and bubbles are stamped into it from cached templates,
  so thousands of droplets cost a few milliseconds.
- ``dark``: the ``uint8`` darkness layer the plants are drawn into
  (255 = black). Specks, fibres and scratches go there, so they look like
  the thin dark things a model must learn not to call roots.

Large droplets also mark ``hidden``: condensation on the lid refracts what
lies below it, so a root under one is not visible there and is labelled
``occluded_root`` instead of ``root``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from visionkit.synth.dish import Dish
from visionkit.synth.look import PlateLook
from visionkit.synth.seedling import Seedling

__all__ = ["Droplets", "draw_debris", "place_droplets", "stamp_droplets"]

#: Droplets at least this large (mm radius) hide what lies below them.
HIDE_MIN_MM = 0.15


@dataclass(frozen=True)
class Droplets:
    """Droplet and bubble centres ``x, y`` and radii ``r`` (px), their look and kind.

    ``blur`` is the defocus as a fraction of the radius (lid droplets far
    from the focal plane look like soft "C" shapes); ``bubble`` marks air
    bubbles in the agar, which have a thin dark ring and hide nothing.
    """

    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    blur: np.ndarray
    strength: np.ndarray
    bubble: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


def _pareto_radii(
    rng: np.random.Generator, n: int, low: float, high: float, a: float
) -> np.ndarray:
    """Radii between ``low`` and ``high`` with density ~ r^-(a+1): many small, few large."""
    u = rng.random(n)
    ratio = (low / high) ** a
    return low * (1.0 - u * (1.0 - ratio)) ** (-1.0 / a)


def _shoot_boxes(seedlings: list[Seedling], margin: float) -> np.ndarray:
    """Boxes ``(x0, y0, x1, y1)`` around each shoot and seed, which droplets avoid."""
    boxes = []
    for s in seedlings:
        pts: list[np.ndarray] = []
        if s.hypocotyl is not None:
            pts.append(s.hypocotyl.points)
        pts.extend(p.points for p in s.petioles)
        for e in [*s.leaves, *([s.seed] if s.seed is not None else [])]:
            rad = max(e.axes)
            pts.append(
                np.array(
                    [[e.centre[0] - rad, e.centre[1] - rad], [e.centre[0] + rad, e.centre[1] + rad]]
                )
            )
        if pts:
            allp = np.concatenate(pts)
            lo, hi = allp.min(axis=0) - margin, allp.max(axis=0) + margin
            boxes.append([lo[0], lo[1], hi[0], hi[1]])
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def place_droplets(
    rng: np.random.Generator, dish: Dish, look: PlateLook, seedlings: list[Seedling]
) -> Droplets:
    """Condensation dense along the dish's top edge, thinning downwards, plus bubbles.

    Droplets overlapping a shoot or seed are dropped (the masks would lie);
    plants planned ``under_droplet`` get one large droplet on their primary root.
    """
    ppm = dish.px_per_mm
    inner = dish.inner_half
    side_mm = 2 * inner / ppm
    band = look.droplet_band_mm * ppm
    dens = look.droplet_density
    # Lid condensation: counts follow the real plate's top band (per mm of width).
    n_band = int(rng.poisson(dens * side_mm * 40.0))
    n_sparse = int(rng.poisson(dens * side_mm * 0.6))
    # Patchiness along the edge: smooth random modulation of the density.
    phase, freq = rng.uniform(0, 2 * np.pi, 2), rng.uniform(1.0, 3.0, 2)
    u_band = rng.uniform(-inner, inner, n_band * 2)
    keep = rng.random(n_band * 2) < 0.5 + 0.25 * (
        np.sin(freq[0] * np.pi * u_band / inner + phase[0])
        + np.sin(freq[1] * np.pi * u_band / inner + phase[1])
    )
    u_band = u_band[keep][:n_band]
    depth = rng.exponential(band, len(u_band)) * rng.uniform(0.3, 1.0, len(u_band))
    v_band = -inner + depth
    r_band = _pareto_radii(rng, len(u_band), 0.09 * ppm, 1.3 * ppm, 1.7)
    # Bigger droplets sit close to the edge, where condensation is heaviest.
    r_band *= np.clip(1.3 - depth / (2.5 * band), 0.35, 1.3)
    u_sparse = rng.uniform(-inner, inner, n_sparse)
    v_sparse = rng.uniform(-inner, inner, n_sparse)
    r_sparse = _pareto_radii(rng, n_sparse, 0.1 * ppm, 1.2 * ppm, 1.1)
    u = np.concatenate([u_band, u_sparse])
    v = np.concatenate([v_band, v_sparse])
    r = np.concatenate([r_band, r_sparse])
    blur = np.concatenate(
        [
            np.where(rng.random(len(u_band)) < 0.1, 0.25, 0.0),
            np.where(rng.random(n_sparse) < 0.6, 0.3, 0.0),
        ]
    )
    inside = (np.abs(u) < inner - r) & (np.abs(v) < inner - r)
    u, v, r, blur = u[inside], v[inside], r[inside], blur[inside]
    x, y = dish.to_image(u, v)

    forced_x, forced_y, forced_r = [], [], []
    for s in seedlings:
        if (
            "under_droplet" in s.hard_cases
            and s.primary is not None
            and len(s.primary.points) >= 12
        ):
            k = int(rng.integers(len(s.primary.points) * 3 // 10, len(s.primary.points) * 7 // 10))
            px, py = s.primary.points[k]
            forced_x.append(px + rng.normal(0.0, 0.1) * ppm)
            forced_y.append(py)
            forced_r.append(rng.uniform(0.5, 1.1) * ppm)
    n_bub = int(rng.integers(0, 9))
    bx, by = dish.to_image(
        rng.uniform(-inner, inner, n_bub) * 0.9, rng.uniform(-inner, inner, n_bub) * 0.9
    )
    br = _pareto_radii(rng, n_bub, 0.25 * ppm, 2.5 * ppm, 1.0)

    x = np.concatenate([np.asarray(forced_x, float), x, bx])
    y = np.concatenate([np.asarray(forced_y, float), y, by])
    r = np.concatenate([np.asarray(forced_r, float), r, br])
    blur = np.concatenate([np.zeros(len(forced_x)), blur, np.zeros(n_bub)])
    bubble = np.concatenate([np.zeros(len(blur) - n_bub, bool), np.ones(n_bub, bool)])
    strength = rng.uniform(0.75, 1.15, len(x)) * np.where(blur > 0, 0.65, 1.0)

    boxes = _shoot_boxes(seedlings, 0.3 * ppm)
    ok = np.ones(len(x), bool)
    for x0, y0, x1, y1 in boxes:
        ok &= ~((x + r > x0) & (x - r < x1) & (y + r > y0) & (y - r < y1))
    ok[: len(forced_x)] = True  # forced droplets are placed on the root, clear of the shoot
    order = np.flatnonzero(ok)
    kept = _non_overlapping(x[order], y[order], r[order], forced=len(forced_x))
    sel = order[kept]
    return Droplets(x[sel], y[sel], r[sel], blur[sel], strength[sel], bubble[sel])


def _non_overlapping(x: np.ndarray, y: np.ndarray, r: np.ndarray, forced: int) -> np.ndarray:
    """Indices of droplets kept when larger ones win overlaps (droplets merge, never stack).

    Droplets of 3 px radius or more are resolved one by one, largest first;
    the many tiny ones are only dropped where they fall inside a kept one
    (a vectorised lookup), which keeps a dense plate to a few milliseconds.
    """
    import cv2
    from scipy.spatial import cKDTree

    if len(x) == 0:
        return np.zeros(0, int)
    order = np.concatenate([np.arange(forced), forced + np.argsort(-r[forced:], kind="stable")])
    large = order[(r[order] >= 3.0) | (order < forced)]
    small = order[(r[order] < 3.0) & (order >= forced)]
    taken = np.zeros(len(x), bool)
    if len(large):
        tree = cKDTree(np.stack([x[large], y[large]], axis=1))
        rmax = float(r[large].max())
        for pos, i in enumerate(large):
            near = np.asarray(tree.query_ball_point((x[i], y[i]), r[i] + rmax), dtype=int)
            near = large[near[near < pos]]
            near = near[taken[near]]
            if len(near) and bool(
                (np.hypot(x[near] - x[i], y[near] - y[i]) < r[near] + r[i]).any()
            ):
                continue
            taken[i] = True
    kept_large = np.flatnonzero(taken)
    if len(small):
        width = int(np.ceil(max(x.max(), 1.0))) + 8
        height = int(np.ceil(max(y.max(), 1.0))) + 8
        occupied = np.zeros((height // 2 + 1, width // 2 + 1), np.uint8)
        for i in kept_large:
            centre = (round(float(x[i]) / 2), round(float(y[i]) / 2))
            cv2.circle(occupied, centre, round(float(r[i]) / 2 + 1), 1, -1)
        sx = np.clip(np.round(x[small] / 2).astype(int), 0, occupied.shape[1] - 1)
        sy = np.clip(np.round(y[small] / 2).astype(int), 0, occupied.shape[0] - 1)
        free = (occupied[sy, sx] == 0) & (x[small] >= 0) & (y[small] >= 0)
        taken[small[free]] = True
    return np.flatnonzero(taken)


@lru_cache(maxsize=4096)
def _template(radius_q: int, direction_q: int, blur_q: int, bubble: bool) -> tuple[np.ndarray, int]:
    """A droplet's relative shading on a square patch; cached by quantised parameters.

    ``radius_q`` is the radius in quarter pixels, ``direction_q`` the shadowed
    side in 16ths of a turn, ``blur_q`` the defocus in tenths of the radius.
    Returns the patch and its half-size.
    """
    import cv2

    radius = radius_q / 4.0
    blur = blur_q / 10.0 * radius
    half = math.ceil(radius + 3.0 * blur + 2.0)
    grid = np.arange(-half, half + 1, dtype=np.float32)
    dx, dy = np.meshgrid(grid, grid)
    dist = np.hypot(dx, dy)
    r = dist / radius
    cover = np.clip(radius - dist + 0.5, 0.0, 1.0)
    if bubble:
        ring = np.exp(-(((1.0 - r) * radius / max(0.8, 0.06 * radius)) ** 2))
        patch = cover * 0.025 - 0.35 * ring
    else:
        angle = direction_q * 2.0 * math.pi / 16.0
        lx, ly = math.cos(angle), math.sin(angle)
        proj = (dx * lx + dy * ly) / radius  # +1 on the shadowed side
        across = (-dx * ly + dy * lx) / radius
        edge = max(0.7, 0.06 * radius)
        rim = np.exp(-(((1.0 - r) * radius / edge) ** 2))
        # A sharp dark crescent, thick on the shadowed side and thin elsewhere.
        thickness = 0.55 * np.clip(proj + 0.2, 0.0, 1.0) ** 1.5
        soft = max(0.6 / radius, 0.06)
        shadow = np.clip((r - (1.0 - thickness)) / soft + 0.5, 0.0, 1.0) * (thickness > 0.02)
        # The lens focuses light into a bright spot just inside the crescent.
        spot = np.exp(-(((proj - 0.35) ** 2 + (across + 0.3) ** 2) / 0.025))
        patch = cover * (0.07 - 0.22 * rim - 0.85 * shadow + 0.4 * spot * (1.0 - shadow))
    if blur > 0.3:
        patch = np.asarray(cv2.GaussianBlur(patch.astype(np.float32), (0, 0), blur))
    return np.clip(patch, -0.85, 1.0).astype(np.float32), half


def stamp_droplets(
    rng: np.random.Generator,
    shade: np.ndarray,
    hidden: np.ndarray,
    droplets: Droplets,
    look: PlateLook,
    ppm: float,
) -> None:
    """Add every droplet's shading to ``shade``; mark large lid droplets in ``hidden``."""
    import cv2

    height, width = shade.shape
    base = (look.light_angle / (2.0 * math.pi) * 16.0) % 16.0
    jitter = rng.normal(0.0, 0.8, len(droplets))
    hide_min = HIDE_MIN_MM * ppm
    for i in range(len(droplets)):
        radius = float(droplets.r[i])
        patch, half = _template(
            max(2, round(radius * 4)),
            round(base + jitter[i]) % 16,
            round(float(droplets.blur[i]) * 10),
            bool(droplets.bubble[i]),
        )
        cx, cy = round(float(droplets.x[i])), round(float(droplets.y[i]))
        x0, y0 = cx - half, cy - half
        x1, y1 = x0 + patch.shape[1], y0 + patch.shape[0]
        sx0, sy0 = max(0, -x0), max(0, -y0)
        sx1 = patch.shape[1] - max(0, x1 - width)
        sy1 = patch.shape[0] - max(0, y1 - height)
        if sx0 >= sx1 or sy0 >= sy1:
            continue
        region = shade[y0 + sy0 : y0 + sy1, x0 + sx0 : x0 + sx1]
        region += patch[sy0:sy1, sx0:sx1] * float(droplets.strength[i])
        if not droplets.bubble[i] and droplets.blur[i] == 0 and radius >= hide_min:
            cv2.circle(hidden, (cx, cy), max(1, round(radius - 1.0)), 1, -1, cv2.LINE_8)


def _wander(
    rng: np.random.Generator, start: np.ndarray, n: int, step: float, curl: float
) -> np.ndarray:
    heading = rng.uniform(0.0, 2.0 * np.pi) + np.cumsum(rng.normal(0.0, curl, n))
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=1) * step
    return start + np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])


def draw_debris(
    rng: np.random.Generator, dish: Dish, look: PlateLook, dark: np.ndarray, shade: np.ndarray
) -> None:
    """Specks, fibres, scratches, a faint ring or streak: things that are not roots."""
    import cv2

    ppm = dish.px_per_mm
    inner = dish.inner_half * 0.97
    agar = look.agar

    def spot(count: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = dish.to_image(rng.uniform(-inner, inner, count), rng.uniform(-inner, inner, count))
        return x, y

    def level(grey: float) -> int:
        return int(np.clip(round(255.0 * grey / agar), 0, 255))

    xs, ys = spot(int(rng.integers(10, 80)))
    for x, y in zip(xs, ys, strict=True):
        rad = max(1, round(float(rng.uniform(0.02, 0.12)) * ppm))
        cv2.circle(
            dark, (round(x), round(y)), rad, level(float(rng.uniform(6.0, 60.0))), -1, cv2.LINE_AA
        )

    xs, ys = spot(int(rng.integers(3, 25)))
    for x, y in zip(xs, ys, strict=True):
        n = int(rng.integers(5, 60))
        path = _wander(rng, np.array([x, y]), n, 0.15 * ppm, float(rng.uniform(0.05, 0.35)))
        thick = 1 if rng.random() < 0.7 else 2
        cv2.polylines(
            dark,
            [np.round(path * 16).astype(np.int32)],
            False,
            level(float(rng.uniform(6.0, 45.0))),
            thick,
            cv2.LINE_AA,
            4,
        )

    xs, ys = spot(int(rng.integers(0, 4)))
    for x, y in zip(xs, ys, strict=True):
        n = int(rng.integers(30, 200))
        path = _wander(rng, np.array([x, y]), n, 0.3 * ppm, 0.004)
        cv2.polylines(
            dark,
            [np.round(path * 16).astype(np.int32)],
            False,
            level(float(rng.uniform(2.0, 6.0))),
            1,
            cv2.LINE_AA,
            4,
        )

    if rng.random() < 0.3:  # a faint large ring, like a pin-hole or lid mark
        (x,), (y,) = spot(1)
        rad = round(float(rng.uniform(5.0, 20.0)) * ppm)
        cv2.circle(
            dark, (round(x), round(y)), rad, level(float(rng.uniform(3.0, 7.0))), 2, cv2.LINE_AA
        )

    if rng.random() < 0.3:  # a soft dark streak
        (x,), (y,) = spot(1)
        length, width = float(rng.uniform(3.0, 10.0)) * ppm, float(rng.uniform(0.4, 1.5)) * ppm
        half = round(length / 2 + 3 * width)
        blob = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
        cv2.ellipse(
            blob,
            (half, half),
            (round(length / 2), max(1, round(width / 2))),
            float(rng.uniform(0, 180)),
            0,
            360,
            1.0,
            -1,
            cv2.LINE_AA,
        )
        blob = np.asarray(cv2.GaussianBlur(blob, (0, 0), width / 2), np.float32)
        x0, y0 = round(x) - half, round(y) - half
        if (
            x0 >= 0
            and y0 >= 0
            and y0 + blob.shape[0] <= shade.shape[0]
            and x0 + blob.shape[1] <= shade.shape[1]
        ):
            shade[y0 : y0 + blob.shape[0], x0 : x0 + blob.shape[1]] -= blob * float(
                rng.uniform(0.03, 0.1)
            )
