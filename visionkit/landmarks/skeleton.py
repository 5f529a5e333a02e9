"""Turn a one-pixel-wide skeleton into a :class:`~visionkit.landmarks.graph.RootGraph`.

Pixels are joined with *m-adjacency* (8-connectivity, but a diagonal step
only where no 4-connected detour exists), so a staircase pixel is not taken
for a junction. Pixels with two neighbours form chains (branches); the rest
are endpoints or junctions, and touching junction pixels are one node.
Where two junctions lie closer than ``merge_px`` (a crossing, two laterals
leaving together, a small hole in the mask) they become one node, so the
path search sees one decision there, not several tiny ones.

All of it is vectorised with numpy and ``scipy.sparse.csgraph``; Python only
loops over branches, never over pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from visionkit.landmarks.graph import RootGraph

__all__ = ["skeleton_graph"]


def _edges(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """m-adjacency edges between skeleton pixels, as an ``(E, 2)`` array of pixel indices."""
    h, w = shape
    index = np.full((h + 2, w + 2), -1, np.int32)
    index[rows + 1, cols + 1] = np.arange(len(rows), dtype=np.int32)

    def at(dr: int, dc: int) -> np.ndarray:
        return index[rows + 1 + dr, cols + 1 + dc]

    east, south, west = at(0, 1), at(1, 0), at(0, -1)
    south_east, south_west = at(1, 1), at(1, -1)
    pairs = []
    for other, keep in (
        (east, east >= 0),
        (south, south >= 0),
        (south_east, (south_east >= 0) & (east < 0) & (south < 0)),
        (south_west, (south_west >= 0) & (west < 0) & (south < 0)),
    ):
        mine = np.nonzero(keep)[0]
        pairs.append(np.stack([mine, other[keep]], axis=1))
    return np.concatenate(pairs).astype(np.int64)


def _components(edges: np.ndarray, keep: np.ndarray, n: int) -> tuple[Any, np.ndarray]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    chosen = edges[keep]
    matrix = coo_matrix((np.ones(len(chosen)), (chosen[:, 0], chosen[:, 1])), shape=(n, n)).tocsr()
    _, labels = connected_components(matrix, directed=False)
    return matrix, labels


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def skeleton_graph(
    skeleton: np.ndarray,
    *,
    origin: tuple[int, int] = (0, 0),
    widths: np.ndarray | None = None,
    merge_px: float = 15.0,
    window: int = 15,
) -> RootGraph:
    """The branch graph of a boolean skeleton image.

    Args:
        skeleton: ``H x W`` bool, one pixel wide (``skimage.morphology.skeletonize``).
        origin: ``(x, y)`` of the image's top-left pixel in the coordinates
            the graph should use (the skeleton is often a crop).
        widths: ``H x W`` root width in pixels, read at skeleton pixels;
            ``None`` means 1 everywhere.
        merge_px: junctions joined by a branch shorter than this become one node.
        window: see :class:`~visionkit.landmarks.graph.RootGraph`.
    """
    from scipy.sparse.csgraph import dijkstra

    graph = RootGraph(window=window)
    rows, cols = np.nonzero(skeleton)
    n = len(rows)
    if n == 0:
        return graph
    xy = np.stack([cols + origin[0], rows + origin[1]], axis=1).astype(np.float64)
    width = np.ones(n) if widths is None else widths[rows, cols].astype(np.float64)
    edges = _edges(rows, cols, skeleton.shape)
    degree = np.bincount(edges.ravel(), minlength=n)
    is_node = degree != 2

    # Chains are runs of two-neighbour pixels; a closed ring of them gets one node.
    while True:
        chain_matrix, chain_label = _components(
            edges, ~is_node[edges[:, 0]] & ~is_node[edges[:, 1]], n
        )
        touching = is_node[edges[:, 0]] != is_node[edges[:, 1]]
        inc = edges[touching]
        inc_chain = np.where(is_node[inc[:, 0]], inc[:, 1], inc[:, 0])
        inc_node = np.where(is_node[inc[:, 0]], inc[:, 0], inc[:, 1])
        chain_pixels = np.nonzero(~is_node)[0]
        touched = np.zeros(n, bool)
        touched[chain_label[inc_chain]] = True
        rings = chain_pixels[~touched[chain_label[chain_pixels]]]
        if len(rings) == 0:
            break
        _, first = np.unique(chain_label[rings], return_index=True)
        is_node[rings[first]] = True

    _, node_label = _components(edges, is_node[edges[:, 0]] & is_node[edges[:, 1]], n)
    cluster = np.full(n, -1, np.int64)
    node_pixels = np.nonzero(is_node)[0]
    _, cluster[node_pixels] = np.unique(node_label[node_pixels], return_inverse=True)
    n_clusters = int(cluster.max()) + 1

    if len(chain_pixels) == 0:
        return graph
    inc_label = chain_label[inc_chain]
    order_inc = np.argsort(inc_label, kind="stable")
    labels, first_inc = np.unique(inc_label[order_inc], return_index=True)
    sources = inc_chain[order_inc[first_inc]]
    dist = dijkstra(chain_matrix, directed=False, indices=sources, unweighted=True, min_only=True)
    ordered = chain_pixels[np.lexsort((dist[chain_pixels], chain_label[chain_pixels]))]
    starts = np.searchsorted(chain_label[ordered], labels)
    ends = np.append(starts[1:], len(ordered))

    raw: list[tuple[int, int, np.ndarray]] = []
    for i in range(len(labels)):
        a = order_inc[first_inc[i]]
        b = order_inc[first_inc[i] + 1] if first_inc[i] + 1 < len(order_inc) else a
        if inc_label[b] != labels[i]:
            b = a
        chain = ordered[starts[i] : ends[i]]
        pixels = np.concatenate([[inc_node[a]], chain, [inc_node[b]]])
        raw.append((int(cluster[inc_node[a]]), int(cluster[inc_node[b]]), pixels))

    ends_per_cluster = np.zeros(n_clusters, np.int64)
    for u, v, _ in raw:
        ends_per_cluster[u] += 1
        ends_per_cluster[v] += 1
    union = _Union(n_clusters)
    kept: list[tuple[int, int, np.ndarray]] = []
    for u, v, pixels in raw:
        steps = np.diff(xy[pixels], axis=0)
        length = float(np.hypot(steps[:, 0], steps[:, 1]).sum())
        junctions = ends_per_cluster[u] >= 3 and ends_per_cluster[v] >= 3
        if u != v and junctions and length < merge_px:
            union.join(u, v)
        else:
            kept.append((u, v, pixels))

    merged = np.array([union.find(c) for c in range(n_clusters)], dtype=np.int64)
    members = merged[cluster[node_pixels]]
    node_id: dict[int, int] = {}
    for u, v, pixels in kept:
        for c in (int(merged[u]), int(merged[v])):
            if c not in node_id:
                node_id[c] = graph.add_node(xy[node_pixels[members == c]].mean(axis=0))
        graph.add_branch(
            node_id[int(merged[u])], node_id[int(merged[v])], xy[pixels], width[pixels]
        )
    return graph
