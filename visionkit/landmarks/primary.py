"""Choose each plant's primary root: a path through the root graph from its start.

The primary root is *not* the path to the farthest or lowest endpoint: a
lateral can end lower than the primary tip. It is the path that best
continues the main axis. Every path from the start to an endpoint is scored

    score = sum(length_i * down_i) * prod(turn_j * width_j)

* ``length_i`` is a branch's length and ``down_i = (1 + cos a) / 2`` where
  ``a`` is its chord's angle from straight down: 1 going down, 0.5 going
  sideways, 0 going up (roots grow down; a path climbing a neighbour's root
  towards its shoot earns nothing).
* At each junction ``j`` the path leaves by one of several branches.
  ``turn_j = exp(-(t² - t_min²) / (2 sigma²))`` where ``t`` is the angle
  between the way the path arrived and the way this branch leaves and
  ``t_min`` the smallest such angle among the choices there: continuing
  straight costs nothing, turning off by 30° more than the straightest
  choice keeps a quarter of the score (``sigma`` = :data:`TURN_SIGMA_DEG`).
  Because it is relative, a primary that bends a little at every lateral is
  not penalised.
* ``width_j = (w / w_max) ** 0.5`` compares the branch's width near the
  junction with the widest choice there: laterals are thinner.

Crossing roots: each plant's best path is found on its own; if two plants'
paths share branches (other than the short stretch where two roots cross),
the plant that entered the shared part more straightly
(smaller turn there) keeps it and the other searches again without it.
A shared stretch that both paths run through and leave on branches of
their own is a crossing at a shallow angle (two roots that touch for a few
millimetres), not a conflict: each root is carried through it, continuing
its own direction on the far side, and both keep it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from visionkit.landmarks.graph import RootGraph

__all__ = [
    "TURN_SIGMA_DEG",
    "PathChoice",
    "candidate_paths",
    "choose_primaries",
    "crossings",
    "path_pixels",
]

_DOWN = np.array([0.0, 1.0])

#: The turn factor's sigma, degrees. 18 was chosen over 25 (the first
#: setting), 20, 15 and 12 on validation crops (seeds 2000 and 2100, 498
#: plants) and development families (seed 8201, 203 plants): 25 let a
#: lateral that leaves 15° more sharply but runs three times as far win
#: (tips within 1 mm 88.4 -> 89.2 % and 85.7 -> 87.2 %, tips more than 5 mm
#: off 31 -> 24, confident tips off unchanged; 15 tied, 12 lost again).
TURN_SIGMA_DEG = 18.0


@dataclass(frozen=True)
class PathChoice:
    """A path from a plant's start node to an endpoint, with its score.

    Attributes:
        steps: ``(branch, from_node)`` pairs in walking order.
        end: the node it ends at.
        score: see the module docstring.
        turns: the relative turn factor taken at each step (1 = the straightest choice).
        angles: the absolute turn at each step, radians (0 = straight on).
    """

    steps: tuple[tuple[int, int], ...]
    end: int
    score: float
    turns: tuple[float, ...]
    angles: tuple[float, ...]

    @property
    def branches(self) -> set[int]:
        """The branches it walks along."""
        return {b for b, _ in self.steps}


class _Walk(NamedTuple):
    """A path being searched: where it has got to, and what its score is made of so far."""

    node: int  # where it has got to
    arrived_by: int  # the branch it came along (-1 at the start)
    heading: np.ndarray  # the way it is going, a unit vector
    steps: tuple[tuple[int, int], ...]  # (branch, from_node) pairs walked
    turns: tuple[float, ...]  # the relative turn factor at each step
    angles: tuple[float, ...]  # the absolute turn at each step, radians
    visited: frozenset[int]  # the nodes passed (a simple path passes each once)
    reach: float  # sum of length_i * down_i
    log_factor: float  # log of prod(turn_j * width_j)

    def path(self) -> PathChoice:
        """The walk, ended where it is, as a scored path."""
        return PathChoice(
            self.steps, self.node, self.reach * math.exp(self.log_factor), self.turns, self.angles
        )


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between unit vectors (a right angle when either is zero).

    In plain floats: the path search calls this for every step of every
    walk, where numpy's per-call overhead on 2-vectors was most of its time.
    """
    ax, ay = a.tolist()
    bx, by = b.tolist()
    if (ax == 0.0 and ay == 0.0) or (bx == 0.0 and by == 0.0):
        return math.pi / 2
    return math.acos(max(-1.0, min(1.0, ax * bx + ay * by)))


def _down(graph: RootGraph, b: int, node: int) -> float:
    pts = graph.branch(b).from_node(node)
    chord = pts[-1] - pts[0]
    norm = float(np.hypot(chord[0], chord[1]))
    if norm < 1e-9:
        return 0.5
    return 0.5 * (1.0 + float(chord[1]) / norm)


def _cached(
    memo: dict[tuple[int, int], float], measure: Callable[[int, int], float], b: int, node: int
) -> float:
    """``measure(b, node)``, computed once per ``(b, node)`` in ``memo``."""
    value = memo.get((b, node))
    if value is None:
        value = memo[(b, node)] = measure(b, node)
    return value


def candidate_paths(
    graph: RootGraph,
    start: int,
    *,
    blocked_branches: frozenset[int] = frozenset(),
    blocked_nodes: frozenset[int] = frozenset(),
    turn_sigma_deg: float = TURN_SIGMA_DEG,
    width_power: float = 0.5,
    short_px: float = 30.0,
    max_paths: int = 4000,
) -> list[PathChoice]:
    """Every simple path from ``start`` to a dead end, scored (best first).

    A path stops at an endpoint, or where every onward branch is blocked or
    leads back to a node it already passed. ``blocked_nodes`` (other plants'
    starts) may be reached but not passed. At most ``max_paths`` are
    returned (the search stops there; real plants have far fewer).
    """
    two_sigma2 = 2.0 * math.radians(turn_sigma_deg) ** 2
    widths_at: dict[tuple[int, int], float] = {}  # walks share ends: measure each once
    downs: dict[tuple[int, int], float] = {}
    found: list[PathChoice] = []
    stack = [_Walk(start, -1, _DOWN, (), (), (), frozenset({start}), 0.0, 0.0)]
    while stack and len(found) < max_paths:
        walk = stack.pop()
        options = []
        if walk.node == start or walk.node not in blocked_nodes:
            options = [
                b
                for b in graph.incident[walk.node]
                if b != walk.arrived_by
                and b not in blocked_branches
                and graph.other(b, walk.node) not in walk.visited
            ]
        if not options:
            if walk.steps:
                found.append(walk.path())
            continue
        angles = [_angle(walk.heading, graph.away(b, walk.node)) for b in options]
        widths = [_cached(widths_at, graph.width_near, b, walk.node) for b in options]
        straightest = min(angles)
        widest = max((w for w in widths if not math.isnan(w)), default=float("nan"))
        for b, angle, width in zip(options, angles, widths, strict=True):
            turn = math.exp(-(angle**2 - straightest**2) / two_sigma2)
            thin = 1.0
            if not math.isnan(width) and widest > 0:
                thin = (width / widest) ** width_power
            down = _cached(downs, partial(_down, graph), b, walk.node)
            stack.append(_onward(graph, walk, b, angle, turn, thin, down, short_px=short_px))
    found.sort(key=lambda p: -p.score)
    return found


def _onward(
    graph: RootGraph,
    walk: _Walk,
    b: int,
    angle: float,
    turn: float,
    thin: float,
    down: float,
    *,
    short_px: float,
) -> _Walk:
    """``walk`` carried on along branch ``b``, leaving at ``angle`` with these factors.

    ``down`` is how much of the branch runs downwards (:func:`_down`).
    """
    nxt = graph.other(b, walk.node)
    branch = graph.branch(b)
    # Across a short branch (a crossing's shared stretch) keep the heading.
    heading = walk.heading if branch.length < short_px else -graph.away(b, nxt)
    return _Walk(
        node=nxt,
        arrived_by=b,
        heading=heading,
        steps=(*walk.steps, (b, walk.node)),
        turns=(*walk.turns, turn),
        angles=(*walk.angles, angle),
        visited=walk.visited | {nxt},
        reach=walk.reach + branch.length * down,
        log_factor=walk.log_factor + math.log(max(turn * thin, 1e-300)),
    )


def path_pixels(graph: RootGraph, choice: PathChoice) -> np.ndarray:
    """The ``(K, 2)`` pixel polyline ``(x, y)`` of a path, start to end."""
    parts = [graph.branch(b).from_node(node) for b, node in choice.steps]
    pixels = np.concatenate(parts) if parts else np.zeros((0, 2))
    if len(pixels) > 1:
        keep = np.ones(len(pixels), bool)
        keep[1:] = np.any(np.diff(pixels, axis=0) != 0, axis=1)
        pixels = pixels[keep]
    return pixels


def _entry_angle(choice: PathChoice, shared: set[int]) -> float:
    for (b, _), angle in zip(choice.steps, choice.angles, strict=True):
        if b in shared:
            return angle
    return math.pi  # pragma: no cover - only called when the paths share a branch


def _passes_through(a: PathChoice, b: PathChoice, shared: set[int]) -> bool:
    """Whether both paths run through the shared branches and leave them on their own."""
    after: list[set[int]] = []
    for choice in (a, b):
        walked = [branch for branch, _ in choice.steps]
        last = max(k for k, branch in enumerate(walked) if branch in shared)
        if last == len(walked) - 1:
            return False  # it ends inside the shared part
        after.append(set(walked[last + 1 :]))
    return not (after[0] & after[1])


def _onward_of(choice: PathChoice, shared: set[int]) -> set[int]:
    """The branches ``choice`` walks after its last shared one."""
    walked = [branch for branch, _ in choice.steps]
    last = max(k for k, branch in enumerate(walked) if branch in shared)
    return set(walked[last + 1 :])


def crossings(choices: Sequence[PathChoice | None], graph: RootGraph) -> list[bool]:
    """Per path, whether it shares any branch with another plant's path (a crossing)."""
    flags = [False] * len(choices)
    for i, a in enumerate(choices):
        for j in range(i + 1, len(choices)):
            b = choices[j]
            if a is not None and b is not None and a.branches & b.branches:
                flags[i] = flags[j] = True
    return flags


def choose_primaries(
    graph: RootGraph,
    starts: Sequence[int | None],
    *,
    turn_sigma_deg: float = TURN_SIGMA_DEG,
    short_px: float = 30.0,
) -> list[tuple[PathChoice | None, list[PathChoice]]]:
    """Each plant's primary path and its remaining candidates (best first).

    Args:
        graph: the root graph of all plants.
        starts: each plant's start node, ``None`` for a plant without root.
        turn_sigma_deg: see the module docstring.
        short_px: see :func:`candidate_paths` (about 3 mm).

    Returns:
        Per plant ``(best, candidates)``; ``best`` is ``None`` without a path.
    """
    others = frozenset(s for s in starts if s is not None)
    blocked: list[set[int]] = [set() for _ in starts]

    def search(i: int) -> list[PathChoice]:
        start = starts[i]
        if start is None:
            return []
        return candidate_paths(
            graph,
            start,
            blocked_branches=frozenset(blocked[i]),
            blocked_nodes=others - {start},
            turn_sigma_deg=turn_sigma_deg,
            short_px=short_px,
        )

    candidates = [search(i) for i in range(len(starts))]
    tried: set[tuple[int, frozenset[int]]] = set()
    for _ in range(4 * len(starts) + 1):
        conflict = None
        for i in range(len(starts)):
            for j in range(i + 1, len(starts)):
                if candidates[i] and candidates[j]:
                    shared = {
                        b
                        for b in candidates[i][0].branches & candidates[j][0].branches
                        if graph.branch(b).length >= short_px  # not just a crossing
                    }
                    if shared and not _passes_through(candidates[i][0], candidates[j][0], shared):
                        conflict = (i, j, shared)
                        break
            if conflict:
                break
        if conflict is None:
            break
        i, j, shared = conflict
        bi, bj = candidates[i][0], candidates[j][0]
        key_i = (-_entry_angle(bi, shared), bi.score)
        key_j = (-_entry_angle(bj, shared), bj.score)
        loser, winner = (j, bi) if key_i >= key_j else (i, bj)
        onward = _onward_of(winner, shared)
        if (loser, frozenset(shared)) in tried or not onward:
            blocked[loser] |= shared
        else:
            # First let the loser cross the shared stretch and leave on its own.
            tried.add((loser, frozenset(shared)))
            blocked[loser] |= onward
        candidates[loser] = search(loser)
    return [(c[0] if c else None, c) for c in candidates]
