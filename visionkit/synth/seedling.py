"""The geometry of seedlings: where each organ is, how wide and how dark.

Roots grow as a smooth random walk of their heading with a pull towards
gravity (or, for laterals, towards a slanted set-point), one step of about
0.3 mm at a time. Width and darkness are attached to every point so the
renderer and the ground truth read the same numbers. Nothing here draws
pixels; :mod:`visionkit.synth.render` does.

Coordinates are frame pixels ``(x, y)`` once :func:`grow_plants` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from visionkit.synth.config import SynthConfig
from visionkit.synth.dish import Dish
from visionkit.synth.families import Variation, dips, faint_profile, shallow_slope
from visionkit.synth.look import PlateLook

__all__ = ["Ellipse", "Polyline", "Seedling", "grow_plants"]

#: Path step in millimetres (about 6 px at 20 px/mm).
_STEP_MM = 0.3


@dataclass
class Polyline:
    """A root or stem: points ``(N, 2)`` as ``(x, y)``, width (px) and darkness per point.

    ``contrast`` is in grey levels below the agar (at the plate's agar level);
    ``soft`` is an extra blur (Gaussian sigma, px) for a root out of focus in
    the agar, 0 for a sharp one.
    """

    points: np.ndarray
    widths: np.ndarray
    contrast: np.ndarray
    soft: float = 0.0

    @property
    def length(self) -> float:
        """Arc length in pixels."""
        if len(self.points) < 2:
            return 0.0
        return float(np.hypot(*np.diff(self.points, axis=0).T).sum())

    @property
    def tip(self) -> np.ndarray:
        """The last point."""
        return np.asarray(self.points[-1])


@dataclass(frozen=True)
class Ellipse:
    """A filled ellipse: centre ``(x, y)``, semi-axes (px), angle (degrees), darkness (0-1)."""

    centre: tuple[float, float]
    axes: tuple[float, float]
    angle: float
    darkness: float


@dataclass
class Seedling:
    """Everything drawn for one plant, plus what the ground truth says about it."""

    plant: int
    present: bool
    reason: str | None = None
    seed: Ellipse | None = None
    hypocotyl: Polyline | None = None
    petioles: list[Polyline] = field(default_factory=list)
    leaves: list[Ellipse] = field(default_factory=list)
    primary: Polyline | None = None
    laterals: list[Polyline] = field(default_factory=list)
    hairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), np.float32))
    hard_cases: list[str] = field(default_factory=list)

    def add_case(self, name: str) -> None:
        """Record a hard case once."""
        if name not in self.hard_cases:
            self.hard_cases.append(name)


def _walk(
    rng: np.random.Generator,
    start: tuple[float, float],
    heading: float,
    length: float,
    step: float,
    *,
    setpoint: float,
    pull: float,
    wiggle: float,
    limit: float,
) -> np.ndarray:
    """Grow a path in the dish frame; ``heading`` 0 points down (+v), positive to +u.

    The heading's turn rate is itself a smoothed random walk (curvature comes
    in gentle waves, not jitter), and each step pulls the heading ``pull`` of
    the way back towards ``setpoint``. Growth stops at ``limit`` (|u|, |v|).
    """
    n = max(1, math.ceil(length / step))
    points = np.empty((n + 1, 2), dtype=np.float64)
    points[0] = start
    u, v = start
    turn = 0.0
    shocks = rng.standard_normal(n) * wiggle
    taken = 0
    for k in range(n):
        turn = 0.85 * turn + shocks[k]
        heading += turn - pull * (heading - setpoint)
        seg = min(step, length - k * step)
        u_next = u + seg * math.sin(heading)
        v_next = v + seg * math.cos(heading)
        if abs(u_next) > limit or abs(v_next) > limit:
            break
        u, v = u_next, v_next
        points[k + 1] = (u, v)
        taken = k + 1
    return points[: taken + 1]


def _taper(n: int, top: float, tip: float, power: float) -> np.ndarray:
    s = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    return tip + (top - tip) * (1.0 - s) ** power


def _fade(n: int, top: float, tip: float, decay: float) -> np.ndarray:
    """Darkness along a root: strong near the shoot, falling towards ``tip`` levels."""
    s = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    ramp = (np.exp(-s / decay) - math.exp(-1.0 / decay)) / (1.0 - math.exp(-1.0 / decay))
    return tip + (top - tip) * ramp


@dataclass
class _Plan:
    """Per-plant decisions made before growing anything."""

    u: float
    v: float
    length: float
    setpoint: float
    late: bool = False
    missing: str | None = None
    lateral_below_tip: bool = False
    long_lateral: bool = False
    under_droplet: bool = False
    shallow: bool = False


def _plan(
    rng: np.random.Generator,
    config: SynthConfig,
    dish: Dish,
    look: PlateLook,
    variation: Variation | None = None,
) -> list[_Plan]:
    ppm = dish.px_per_mm
    inner = dish.inner_half
    row = -dish.half + dish.side * float(rng.uniform(0.15, 0.2))
    plans: list[_Plan] = []
    n = config.n_plants
    for i in range(n):
        u = -inner + 2 * inner * (i + 0.5) / n + rng.normal(0.0, 0.012) * dish.side
        v = row + rng.normal(0.0, 0.008) * dish.side
        length = look.age * float(rng.uniform(0.6, 1.35)) * ppm
        setpoint = float(rng.normal(0.0, math.radians(6.0)))
        plan = _Plan(u=u, v=v, length=length, setpoint=setpoint)
        roll = rng.random(4)
        if roll[0] < config.p_missing_plant:
            plan.missing = "missing plant" if rng.random() < 0.5 else "seed did not germinate"
        elif roll[1] < config.p_late_plant:
            plan.late = True
            plan.length = float(rng.uniform(0.4, 3.0)) * ppm
        plan.lateral_below_tip = bool(roll[2] < config.p_lateral_below_tip)
        plan.under_droplet = bool(roll[3] < config.p_under_droplet)
        plans.append(plan)
    if n > 1 and rng.random() < config.p_crossing:
        _plan_crossing(rng, plans, dish)
    if variation is not None:
        _plan_families(variation, plans, dish)
    room = inner - 1.5 * ppm
    for plan in plans:
        plan.length = min(plan.length, max(room - plan.v, ppm) * 1.1)
    return plans


def _plan_crossing(rng: np.random.Generator, plans: list[_Plan], dish: Dish) -> None:
    """Slant one root across its neighbour's and make both long enough to meet."""
    pairs = [
        i
        for i in range(len(plans) - 1)
        if not (plans[i].missing or plans[i + 1].missing or plans[i].late or plans[i + 1].late)
    ]
    if not pairs:
        return
    i = int(rng.choice(pairs))
    mover, other = (i, i + 1) if rng.random() < 0.5 else (i + 1, i)
    gap = plans[other].u - plans[mover].u
    room = dish.inner_half - 2.0 * dish.px_per_mm - plans[mover].v
    depth = float(rng.uniform(0.3, 0.6)) * room
    slope = gap * float(rng.uniform(1.15, 1.5)) / depth
    plans[mover].setpoint = math.atan(slope)
    plans[mover].length = max(plans[mover].length, depth * math.hypot(1.0, slope) * 1.25)
    plans[other].length = max(plans[other].length, depth * float(rng.uniform(1.2, 1.6)))


def _plan_families(variation: Variation, plans: list[_Plan], dish: Dish) -> None:
    """Change the plans as the plate's variation families say (their own random stream)."""
    rng, ppm = variation.rng, dish.px_per_mm
    for i, plan in enumerate(plans):
        if plan.missing:
            continue
        if variation.has("tiny", i):
            plan.late = True
            plan.length = float(rng.uniform(0.4, 5.0)) * ppm
        if variation.has("long_lateral", i) and not plan.late:
            plan.lateral_below_tip = plan.long_lateral = True
            plan.length = max(plan.length, 12.0 * ppm)
    if len(plans) > 1 and "shallow_crossing" in variation.plate:
        _plan_shallow_crossing(rng, plans, dish)


def _plan_shallow_crossing(rng: np.random.Generator, plans: list[_Plan], dish: Dish) -> None:
    """Sow one seedling 6-12 mm from its neighbour and slant its root at 12-30° to meet it."""
    ppm = dish.px_per_mm
    grown = [i for i, p in enumerate(plans) if not (p.missing or p.late)]
    if len(grown) < 2:
        return
    k = int(rng.integers(0, len(grown) - 1))
    mover, other = (grown[k], grown[k + 1])
    if rng.random() < 0.5:
        mover, other = other, mover
    side = 1.0 if plans[other].u > plans[mover].u else -1.0
    plans[mover].u = plans[other].u - side * float(rng.uniform(6.0, 12.0)) * ppm
    gap = plans[other].u - plans[mover].u
    slope = side * shallow_slope(rng)
    depth = gap * float(rng.uniform(1.0, 1.4)) / slope
    room = dish.inner_half - 2.0 * ppm - plans[mover].v
    depth = min(depth, 0.9 * room)
    plans[mover].setpoint = math.atan(slope)
    plans[mover].length = max(plans[mover].length, depth * math.hypot(1.0, slope) * 1.2)
    plans[other].length = max(plans[other].length, depth * float(rng.uniform(1.1, 1.5)))
    plans[mover].shallow = plans[other].shallow = True


def _to_image(dish: Dish, points: np.ndarray) -> np.ndarray:
    x, y = dish.to_image(points[:, 0], points[:, 1])
    return np.stack([x, y], axis=1)


def _grow_primary(rng: np.random.Generator, plan: _Plan, dish: Dish, look: PlateLook) -> Polyline:
    ppm = dish.px_per_mm
    step = _STEP_MM * ppm
    points = _walk(
        rng,
        (plan.u, plan.v),
        plan.setpoint + float(rng.normal(0.0, 0.1)),
        plan.length,
        step,
        setpoint=plan.setpoint,
        pull=float(rng.uniform(0.04, 0.12)),
        wiggle=float(rng.uniform(0.006, 0.02)),
        limit=dish.inner_half - 1.0 * ppm,
    )
    n = len(points)
    scale = 0.45 if plan.late else 1.0
    widths = _taper(
        n,
        float(rng.uniform(0.17, 0.27)) * ppm * (0.8 if plan.late else 1.0),
        float(rng.uniform(0.08, 0.13)) * ppm,
        float(rng.uniform(0.6, 1.4)),
    )
    top = max(
        look.root_contrast_top * float(rng.uniform(0.75, 1.25)) * scale, look.root_contrast_tip
    )
    contrast = _fade(n, top, look.root_contrast_tip, float(rng.uniform(0.15, 0.6)))
    # Real roots are not evenly dark: slow blotches along the length.
    blotches = np.convolve(rng.standard_normal(n + 8), np.ones(9) / 3.0, mode="valid")[:n]
    contrast = np.maximum(contrast * (1.0 + 0.12 * blotches), look.root_contrast_tip * 0.9)
    return Polyline(points, widths, contrast)


def _grow_laterals(
    rng: np.random.Generator, plan: _Plan, primary_dish: np.ndarray, primary: Polyline, dish: Dish
) -> list[Polyline]:
    ppm = dish.px_per_mm
    step = _STEP_MM * ppm
    n = len(primary_dish)
    length_mm = primary.length / ppm
    laterals: list[Polyline] = []
    if n < 8 or plan.late:
        return laterals
    count = int(rng.poisson(max(0.0, length_mm - 15.0) / 12.0))
    specs: list[tuple[float, float, float, float, float]] = []
    for _ in range(min(count, 12)):
        s = float(rng.uniform(0.12, 0.7))
        side = 1.0 if rng.random() < 0.5 else -1.0
        remaining = (1.0 - s) * primary.length
        specs.append(
            (
                s,
                side * float(rng.uniform(0.8, 1.4)),
                side * float(rng.uniform(0.6, 1.1)),
                remaining * float(rng.uniform(0.08, 0.55)),
                float(rng.uniform(0.02, 0.06)),
            )
        )
    if plan.long_lateral and length_mm > 6.0:
        # A lateral from higher up, longer than the rest of the primary and
        # slanting little, so it ends well below the primary tip.
        s = float(rng.uniform(0.3, 0.7))
        side = 1.0 if rng.random() < 0.5 else -1.0
        remaining = (1.0 - s) * primary.length
        specs.append(
            (
                s,
                side * float(rng.uniform(0.3, 0.8)),
                side * float(rng.uniform(0.03, 0.3)),
                remaining * float(rng.uniform(1.1, 1.5)) + float(rng.uniform(2.0, 10.0)) * ppm,
                float(rng.uniform(0.06, 0.15)),
            )
        )
    elif plan.lateral_below_tip and length_mm > 6.0:
        s = float(rng.uniform(0.55, 0.85))
        side = 1.0 if rng.random() < 0.5 else -1.0
        remaining = (1.0 - s) * primary.length
        specs.append(
            (
                s,
                side * float(rng.uniform(0.35, 0.7)),
                side * float(rng.uniform(0.05, 0.25)),
                remaining + float(rng.uniform(1.5, 6.0)) * ppm,
                float(rng.uniform(0.08, 0.15)),
            )
        )
    for s, turn, setpoint, length, pull in specs:
        k = min(n - 2, max(1, round(s * (n - 1))))
        du, dv = primary_dish[k + 1] - primary_dish[k - 1]
        heading = math.atan2(du, dv) + turn
        points = _walk(
            rng,
            (float(primary_dish[k, 0]), float(primary_dish[k, 1])),
            heading,
            max(length, 2 * step),
            step,
            setpoint=setpoint,
            pull=pull,
            wiggle=float(rng.uniform(0.008, 0.025)),
            limit=dish.inner_half - 1.0 * ppm,
        )
        if len(points) < 3:
            continue
        m = len(points)
        widths = _taper(m, float(primary.widths[k]) * 0.75, float(primary.widths[-1]), 1.0)
        contrast = _fade(m, float(primary.contrast[k]) * 0.85, float(primary.contrast[-1]), 0.5)
        laterals.append(Polyline(_to_image(dish, points), widths, contrast, primary.soft))
    return laterals


def _grow_hairs(
    rng: np.random.Generator, primary: Polyline, look: PlateLook, ppm: float
) -> np.ndarray:
    """Short faint segments off the root: rows ``(x0, y0, x1, y1, contrast)``."""
    length_mm = primary.length / ppm
    count = int(rng.poisson(look.root_hair_density * max(0.0, length_mm - 2.0)))
    pts = primary.points
    if count == 0 or len(pts) < 4:
        return np.zeros((0, 5), np.float32)
    # Hairs grow in the mature zone: not in the last ~2 mm before the tip.
    last = max(2, len(pts) - 1 - round(2.0 / _STEP_MM))
    idx = rng.integers(1, last, size=count)
    tangent = pts[np.minimum(idx + 1, len(pts) - 1)] - pts[idx - 1]
    angle = np.arctan2(tangent[:, 1], tangent[:, 0])
    side = np.where(rng.random(count) < 0.5, -1.0, 1.0)
    angle = angle + side * (np.pi / 2 + rng.normal(0.0, 0.35, count))
    half_w = primary.widths[idx] / 2.0
    hair_len = rng.uniform(0.15, 0.55, count) * ppm
    x0 = pts[idx, 0] + np.cos(angle) * half_w
    y0 = pts[idx, 1] + np.sin(angle) * half_w
    x1 = x0 + np.cos(angle) * hair_len
    y1 = y0 + np.sin(angle) * hair_len
    strength = np.clip(primary.contrast[idx] * rng.uniform(0.08, 0.2, count), 1.5, 7.0)
    return np.stack([x0, y0, x1, y1, strength], axis=1).astype(np.float32)


def _grow_shoot(
    rng: np.random.Generator, plan: _Plan, dish: Dish, look: PlateLook, seedling: Seedling
) -> None:
    ppm = dish.px_per_mm
    agar = look.agar
    young = 0.55 if plan.late else 1.0
    grow = min(1.0, 0.6 + look.age / 60.0) * young
    hyp_len = float(rng.uniform(2.5, 6.0)) * ppm * grow
    step = 0.25 * ppm
    stem = _walk(
        rng,
        (plan.u, plan.v),
        math.pi + float(rng.normal(0.0, 0.15)),
        hyp_len,
        step,
        setpoint=math.pi,
        pull=0.1,
        wiggle=0.03,
        limit=dish.inner_half,
    )
    n = len(stem)
    dark = look.shoot_darkness * float(rng.uniform(0.85, 1.1))
    widths = _taper(n, float(rng.uniform(0.35, 0.5)) * ppm * young, 0.32 * ppm * young, 1.0)
    seedling.hypocotyl = Polyline(_to_image(dish, stem), widths, np.full(n, dark * agar * 0.9))
    top_u, top_v = stem[-1]
    n_leaves = 2 + (int(rng.integers(0, 3)) if look.age > 25.0 and not plan.late else 0)
    for j in range(n_leaves):
        if j < 2:
            direction = math.radians(float(rng.uniform(45.0, 85.0))) * (1 if j == 0 else -1)
            size = float(rng.uniform(0.6, 1.0)) * young
        else:
            direction = math.radians(float(rng.uniform(-30.0, 30.0)))
            size = float(rng.uniform(0.35, 0.6))
        petiole_len = float(rng.uniform(0.5, 1.4)) * ppm * young
        end_u = top_u + math.sin(direction) * petiole_len
        end_v = top_v - math.cos(direction) * petiole_len
        petiole = np.array([[top_u, top_v], [end_u, end_v]])
        seedling.petioles.append(
            Polyline(
                _to_image(dish, petiole), np.full(2, 0.14 * ppm), np.full(2, dark * agar * 0.85)
            )
        )
        major = size * ppm
        centre_u = end_u + math.sin(direction) * major * 0.8
        centre_v = end_v - math.cos(direction) * major * 0.8
        cx, cy = dish.to_image(np.array([centre_u]), np.array([centre_v]))
        angle = math.degrees(math.atan2(-math.cos(direction), math.sin(direction)) + dish.angle)
        seedling.leaves.append(
            Ellipse(
                (float(cx[0]), float(cy[0])),
                (major, major * float(rng.uniform(0.38, 0.6))),
                angle,
                min(0.88, dark * float(rng.uniform(1.05, 1.25))),
            )
        )


def _make_seed(rng: np.random.Generator, plan: _Plan, dish: Dish, look: PlateLook) -> Ellipse:
    ppm = dish.px_per_mm
    du = float(rng.normal(0.0, 0.12)) * ppm
    dv = float(rng.uniform(-0.1, 0.15)) * ppm
    x, y = dish.to_image(np.array([plan.u + du]), np.array([plan.v + dv]))
    return Ellipse(
        (float(x[0]), float(y[0])),
        (float(rng.uniform(0.24, 0.3)) * ppm, float(rng.uniform(0.15, 0.2)) * ppm),
        float(rng.uniform(0.0, 180.0)),
        min(0.92, look.shoot_darkness * float(rng.uniform(1.05, 1.3))),
    )


def _apply_root_families(
    variation: Variation, i: int, primary: Polyline, ppm: float, seedling: Seedling
) -> None:
    """Faint, fading and soft primaries (before the laterals copy their look)."""
    rng = variation.rng
    n = len(primary.points)
    if variation.has("faint", i):
        primary.contrast = faint_profile(rng, n)
        primary.soft = float(rng.uniform(0.05, 0.15)) * ppm
        seedling.add_case("faint_root")
    if variation.has("fading", i):
        primary.contrast = primary.contrast * dips(rng, n, _STEP_MM)
        seedling.add_case("fading_root")


def grow_plants(
    rng: np.random.Generator,
    config: SynthConfig,
    dish: Dish,
    look: PlateLook,
    variation: Variation | None = None,
) -> list[Seedling]:
    """Plan and grow every plant of a plate, numbered 1..N left to right.

    Hard cases that the geometry decides (a root crossing its neighbour, a
    lateral ending below the tip) are labelled from the grown geometry, not
    from the plan, so the labels are true even when chance undoes the plan.
    ``variation`` adds the plate's variation families
    (:mod:`visionkit.synth.families`); their changes are labelled too.
    """
    seedlings: list[Seedling] = []
    for i, plan in enumerate(_plan(rng, config, dish, look, variation)):
        seedling = Seedling(plant=i + 1, present=plan.missing is None)
        if plan.missing:
            seedling.reason = plan.missing
            if plan.missing == "seed did not germinate":
                seedling.seed = _make_seed(rng, plan, dish, look)
            seedlings.append(seedling)
            continue
        seedling.seed = _make_seed(rng, plan, dish, look)
        _grow_shoot(rng, plan, dish, look, seedling)
        primary = _grow_primary(rng, plan, dish, look)
        primary_dish = primary.points
        primary.points = _to_image(dish, primary_dish)
        seedling.primary = primary
        if variation is not None:
            _apply_root_families(variation, i, primary, dish.px_per_mm, seedling)
        seedling.laterals = _grow_laterals(rng, plan, primary_dish, primary, dish)
        seedling.hairs = _grow_hairs(rng, primary, look, dish.px_per_mm)
        if variation is not None and (variation.has("hairless", i) or variation.has("faint", i)):
            seedling.hairs = seedling.hairs[:0]
            seedling.add_case("hairless")
        if plan.late:
            seedling.add_case("late_plant")
        if variation is not None and variation.has("tiny", i):
            seedling.add_case("tiny_plant")
        if plan.long_lateral:
            seedling.add_case("long_lateral")
        if plan.shallow:
            seedling.add_case("shallow_crossing")
        if plan.under_droplet:
            seedling.add_case("under_droplet")  # confirmed or dropped by the renderer
        if any(lat.points[:, 1].max() > primary.tip[1] + 1.0 for lat in seedling.laterals):
            seedling.add_case("lateral_below_tip")
        seedlings.append(seedling)
    # Order by the root start so plant numbers run left to right whatever the jitter did.
    seedlings.sort(key=lambda s: _anchor_x(s))
    for number, seedling in enumerate(seedlings, start=1):
        seedling.plant = number
    _label_crossings(seedlings)
    return seedlings


def _anchor_x(seedling: Seedling) -> float:
    if seedling.primary is not None:
        return float(seedling.primary.points[0, 0])
    if seedling.seed is not None:
        return seedling.seed.centre[0]
    return math.inf


def _dense(line: Polyline, spacing: float = 1.5) -> np.ndarray:
    pts = line.points
    if len(pts) < 2:
        return pts
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.arange(0.0, s[-1] + 1e-9, spacing)
    return np.stack([np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])], axis=1)


def _label_crossings(seedlings: list[Seedling]) -> None:
    """Mark neighbours whose roots touch or cross (closer than their widths)."""
    from scipy.spatial import cKDTree

    roots = [
        [r for r in ([s.primary] if s.primary is not None else []) + s.laterals] for s in seedlings
    ]
    for i in range(len(seedlings) - 1):
        a, b = roots[i], roots[i + 1]
        if not a or not b:
            continue
        pa = np.concatenate([_dense(r) for r in a])
        pb = np.concatenate([_dense(r) for r in b])
        distance, _ = cKDTree(pb).query(pa, k=1)
        if float(distance.min()) <= 2.5:
            seedlings[i].add_case("crosses_neighbour")
            seedlings[i + 1].add_case("crosses_neighbour")
