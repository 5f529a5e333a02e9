"""Bridge small gaps in a root: faint stretches, or a droplet lying over it.

A root broken into pieces leaves an endpoint looking down the root and,
a short way on, another endpoint looking back up. Two endpoints of different
pieces are joined by a straight *bridge* branch when

* they are at most ``max_gap_px`` apart,
* the second lies in the continuation cone of the first: within
  ``cone_deg`` of its direction, plus ``slack_px`` sideways for short gaps
  where a direction is poorly known, and
* the second piece points back towards the first (within ``back_cone_deg``),
  so two pieces that merely pass each other are not joined.

An endpoint may also be joined to the *side* of another piece, if that lies
in its cone within ``side_gap_px`` (a root broken right where a lateral
leaves it has no endpoint below the break); a side point within
``slack_px`` of that piece's own endpoint is joined to the endpoint itself,
so no spur of a pixel or two is cut off there. Bridges are taken cheapest
first (distance plus twice the sideways offset), each endpoint at most once.
Two places already joined by a short walk along the graph (less than four
times the gap, plus ``slack_px``) are not bridged, so a lateral's
tip is not tied back to its own root; places of one piece that are only
joined far around (through a neighbour's root, say) still are. The walk
counts the bridges taken before: a lateral whose first pixels the mask lost
is joined back to its root first (the cheaper bridge), and then the
primary's tip, a few pixels beside the lateral, is not tied onto it as well
(which made the lateral look like the primary's continuation).
"""

from __future__ import annotations

import math

import numpy as np

from visionkit.landmarks.graph import RootGraph

__all__ = ["bridge_gaps"]

#: Places joined by a walk shorter than this many times the gap are not bridged.
_DETOUR = 4.0


def _in_cone(
    offset: np.ndarray, out: np.ndarray, cone_deg: float, slack_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which ``offset`` vectors (``(..., 2)``) lie in the cone along ``out``, and how far aside."""
    along = offset[..., 0] * out[..., 0] + offset[..., 1] * out[..., 1]
    sideways = np.abs(out[..., 0] * offset[..., 1] - out[..., 1] * offset[..., 0])
    inside = (along > 0) & (sideways <= math.tan(math.radians(cone_deg)) * along + slack_px)
    return inside, sideways


def _pixel_index(graph: RootGraph) -> dict[tuple[float, float], tuple[int, int]]:
    index: dict[tuple[float, float], tuple[int, int]] = {}
    for b in graph.live():
        branch = graph.branch(b)
        if not branch.bridge:
            for k, (x, y) in enumerate(branch.pixels.tolist()):
                index[(x, y)] = (b, k)
    return index


def _walks(graph: RootGraph, sources: list[int], limit: float) -> np.ndarray:
    """Shortest walk along the graph from each source to every node, ``inf`` beyond ``limit``.

    Bridges count as the branches they are.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(graph.nodes)
    live = [graph.branch(b) for b in graph.live()]
    rows = [br.u for br in live]
    cols = [br.v for br in live]
    weights = [max(br.length, 1e-6) for br in live]
    matrix = coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()
    return np.asarray(dijkstra(matrix, directed=False, indices=sources, limit=limit))


def bridge_gaps(
    graph: RootGraph,
    *,
    max_gap_px: float,
    side_gap_px: float | None = None,
    cone_deg: float = 30.0,
    back_cone_deg: float = 60.0,
    slack_px: float = 2.0,
) -> int:
    """Add bridge branches across gaps in ``graph``; return how many were added.

    Args:
        graph: the root graph, changed in place.
        max_gap_px: the longest bridge between two endpoints.
        side_gap_px: the longest bridge from an endpoint to the *side* of
            another piece (a root broken right where a lateral leaves);
            default a third of ``max_gap_px``.
        cone_deg, back_cone_deg, slack_px: see the module docstring.
    """
    from scipy.spatial import cKDTree

    side_gap = max_gap_px / 3.0 if side_gap_px is None else side_gap_px
    ends = [n for n in range(len(graph.nodes)) if graph.degree(n) == 1]
    if not ends:
        return 0
    xy = np.array([graph.nodes[n] for n in ends])
    out = np.array([graph.heading_at_end(n) for n in ends])
    walk = _walks(graph, ends, _DETOUR * max_gap_px + slack_px)

    def apart(i: int, nodes: list[int], gap: float) -> bool:
        return bool(walk[i, nodes].min() > _DETOUR * gap + slack_px)

    # (cost, end, target end or -1, target pixel, the target's nodes, the walk they need)
    options: list[tuple[float, int, int, tuple[float, float], list[int], float]] = []
    d = xy[None, :, :] - xy[:, None, :]  # d[i, j] = from end i to end j
    dist = np.hypot(d[..., 0], d[..., 1])
    inside, sideways = _in_cone(d, out[:, None, :], cone_deg, slack_px)
    back = -np.einsum("ijk,jk->ij", d, out) / np.maximum(dist, 1e-9)
    ok = (
        (dist <= max_gap_px)
        & inside
        & ((back >= math.cos(math.radians(back_cone_deg))) | (dist <= 2 * slack_px))
    )
    for i, j in np.argwhere(ok):
        if apart(int(i), [ends[j]], float(dist[i, j])):
            price = float(dist[i, j] + 2 * sideways[i, j])
            options.append((price, int(i), int(j), (0.0, 0.0), [ends[j]], float(dist[i, j])))

    index = _pixel_index(graph)
    if index and side_gap > 0:
        where = np.array(list(index.keys()))
        spots = list(index.values())
        tree = cKDTree(where)
        for i, near in enumerate(tree.query_ball_point(xy, side_gap)):
            if not near:
                continue
            near_arr = np.asarray(near)
            offset = where[near_arr] - xy[i]
            cone, side = _in_cone(offset, out[i], cone_deg, slack_px)
            cost = np.where(cone, np.hypot(offset[:, 0], offset[:, 1]) + 2 * side + 1.0, np.inf)
            for k in np.argsort(cost)[:3]:
                if not np.isfinite(cost[k]):
                    break
                branch = graph.branch(spots[near_arr[k]][0])
                gap = float(np.hypot(*offset[k]))
                if apart(i, [branch.u, branch.v], gap + branch.length):
                    target = (float(where[near_arr[k], 0]), float(where[near_arr[k], 1]))
                    reach = gap + branch.length
                    options.append((float(cost[k]), i, -1, target, [branch.u, branch.v], reach))
                    break

    used: set[int] = set()
    end_of = {node: e for e, node in enumerate(ends)}
    added = 0
    horizon = _DETOUR * max_gap_px + slack_px  # as far as the walks above looked
    for _, i, j, target, nodes, reach in sorted(options, key=lambda o: o[0]):
        if i in used or j in used:
            continue
        limit = min(_DETOUR * reach + slack_px, horizon)
        if added and not _still_apart(graph, ends[i], nodes, limit):
            continue  # a bridge taken before joined them already
        u = ends[i]
        if j >= 0:
            v = ends[j]
            used.add(j)
        else:
            b, k = index[target]
            end = _end_within(graph, b, k, slack_px)
            if end is not None and end != u and end_of[end] not in used:  # degree 1: one of ends
                v = end  # cutting there would leave a spur of a pixel or two
                used.add(end_of[end])
            else:
                count = len(graph.branches)
                v = graph.split(b, k)
                for nb in range(count, len(graph.branches)):  # the halves of a split branch
                    for kk, (x, y) in enumerate(graph.branch(nb).pixels.tolist()):
                        index[(x, y)] = (nb, kk)
        used.add(i)
        gap = float(np.hypot(*(graph.nodes[v] - graph.nodes[u])))
        steps = max(2, math.ceil(gap) + 1)
        line = np.linspace(graph.nodes[u], graph.nodes[v], steps)
        width = float(graph.branch(graph.incident[u][0]).widths.min())
        graph.add_branch(u, v, line, np.full(steps, width), bridge=True)
        added += 1
    return added


def _still_apart(graph: RootGraph, source: int, nodes: list[int], limit: float) -> bool:
    """Whether no walk along ``graph`` as it is now joins ``source`` to ``nodes`` in ``limit``."""
    return bool(_walks(graph, [source], limit)[0, nodes].min() > limit)


def _end_within(graph: RootGraph, b: int, k: int, reach_px: float) -> int | None:
    """The endpoint node of branch ``b`` within ``reach_px`` pixels of its pixel ``k``, if any."""
    branch = graph.branch(b)
    last = len(branch.pixels) - 1
    for node, steps in ((branch.u, k), (branch.v, last - k)):
        if graph.degree(node) == 1 and steps <= reach_px:
            return node
    return None
