"""A root system as a graph: branches (pixel chains) between nodes (junctions and endpoints).

Nodes are junctions (three or more branches meet) and endpoints (one
branch). A branch keeps its ordered pixels ``(x, y)`` from node ``u`` to node
``v`` and the root's local width at each pixel. A bridge is a branch the
gap-bridging step drew across a gap in the mask; it has no pixels of its own
in the mask, only the straight line between the two ends it joins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Branch", "RootGraph"]


@dataclass
class Branch:
    """A chain of skeleton pixels from node ``u`` to node ``v``.

    Attributes:
        u, v: the nodes at its two ends (equal for a loop).
        pixels: ``(n, 2)`` float ``(x, y)``, ordered from ``u`` to ``v``.
        widths: ``(n,)`` root width in pixels at each pixel.
        bridge: drawn across a gap rather than found in the mask.
        length: arc length of ``pixels`` (pixel steps, not smoothed).
    """

    u: int
    v: int
    pixels: np.ndarray
    widths: np.ndarray
    bridge: bool = False
    length: float = field(init=False)

    def __post_init__(self) -> None:
        steps = np.diff(self.pixels, axis=0)
        self.length = float(np.hypot(steps[:, 0], steps[:, 1]).sum()) if len(steps) else 0.0

    def from_node(self, node: int) -> np.ndarray:
        """The pixels ordered as walked away from ``node`` (one of its ends)."""
        return self.pixels if node == self.u else self.pixels[::-1]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.hypot(vector[0], vector[1]))
    return vector / norm if norm > 1e-9 else np.zeros(2)


class RootGraph:
    """Nodes and branches of one or more root systems, with the queries the path search needs.

    Args:
        window: how many pixels a branch's direction at an end is measured
            over (about 1.5 mm: long enough to ignore skeleton wobble, short
            enough to see the angle a lateral leaves at).
        skip: pixels next to a junction left out of that measurement
            (skeletons bend towards the junction there).
    """

    def __init__(self, window: int = 15, skip: int = 2) -> None:
        self.window = max(2, int(window))
        self.skip = max(0, int(skip))
        self.nodes: list[np.ndarray] = []
        self.branches: list[Branch | None] = []
        self.incident: list[list[int]] = []
        self._away: dict[tuple[int, int], np.ndarray] = {}

    # -- building -------------------------------------------------------

    def add_node(self, xy: np.ndarray | tuple[float, float]) -> int:
        """Add a node at ``(x, y)``; return its id."""
        self.nodes.append(np.asarray(xy, dtype=np.float64))
        self.incident.append([])
        return len(self.nodes) - 1

    def add_branch(
        self,
        u: int,
        v: int,
        pixels: np.ndarray,
        widths: np.ndarray,
        *,
        bridge: bool = False,
    ) -> int:
        """Add a branch from ``u`` to ``v``; return its id."""
        branch = Branch(
            u, v, np.asarray(pixels, np.float64), np.asarray(widths, np.float64), bridge
        )
        self.branches.append(branch)
        b = len(self.branches) - 1
        self.incident[u].append(b)
        if v != u:
            self.incident[v].append(b)
        return b

    def remove_branch(self, b: int) -> None:
        """Drop branch ``b`` (its id is never reused)."""
        branch = self.branch(b)
        self.incident[branch.u].remove(b)
        if branch.v != branch.u:
            self.incident[branch.v].remove(b)
        self.branches[b] = None

    def split(self, b: int, k: int) -> int:
        """Cut branch ``b`` at its pixel ``k``; return the node there (new unless an end)."""
        branch = self.branch(b)
        if k <= 0:
            return branch.u
        if k >= len(branch.pixels) - 1:
            return branch.v
        node = self.add_node(branch.pixels[k])
        self.remove_branch(b)
        self.add_branch(
            branch.u, node, branch.pixels[: k + 1], branch.widths[: k + 1], bridge=branch.bridge
        )
        self.add_branch(node, branch.v, branch.pixels[k:], branch.widths[k:], bridge=branch.bridge)
        return node

    # -- queries --------------------------------------------------------

    def branch(self, b: int) -> Branch:
        """Branch ``b``; a removed one is an error."""
        branch = self.branches[b]
        if branch is None:
            raise KeyError(f"branch {b} was removed from the root graph")
        return branch

    def live(self) -> list[int]:
        """Ids of the branches still in the graph."""
        return [b for b, branch in enumerate(self.branches) if branch is not None]

    def other(self, b: int, node: int) -> int:
        """The end of branch ``b`` that is not ``node``."""
        branch = self.branch(b)
        return branch.v if node == branch.u else branch.u

    def degree(self, node: int) -> int:
        """Branch ends at ``node`` (a loop counts twice)."""
        return sum(2 if self.branch(b).u == self.branch(b).v else 1 for b in self.incident[node])

    def away(self, b: int, node: int) -> np.ndarray:
        """Unit direction in which branch ``b`` leaves ``node`` (zeros if it has no extent)."""
        cached = self._away.get((b, node))
        if cached is not None:
            return cached
        pts = self.branch(b).from_node(node)
        last = len(pts) - 1
        start = min(self.skip, max(0, last - 1))
        end = min(start + self.window, last)
        direction = _unit(pts[end] - pts[start])
        if not direction.any():
            direction = _unit(pts[-1] - pts[0])
        self._away[(b, node)] = direction  # branches never change, only go
        return direction

    def heading_at_end(self, node: int) -> np.ndarray:
        """Unit direction in which the root arrives at endpoint ``node``.

        Measured over ``window`` pixels, walking back through pass-through
        nodes when the last branch is shorter than that (a tip's prong).
        """
        parts: list[np.ndarray] = []
        count, here, came = 0, node, -1
        while count < self.skip + self.window:
            onward = [b for b in self.incident[here] if b != came]
            if not onward or (came >= 0 and self.degree(here) != 2):
                break
            came = onward[0]
            pts = self.branch(came).from_node(here)
            parts.append(pts if not parts else pts[1:])
            count += len(pts)
            here = self.other(came, here)
            if here == node:
                break
        if not parts:
            return np.zeros(2)
        pts = np.concatenate(parts)
        last = len(pts) - 1
        start = min(self.skip, max(0, last - 1))
        end = min(start + self.window, last)
        direction = _unit(pts[start] - pts[end])
        return direction if direction.any() else _unit(pts[0] - pts[-1])

    def width_near(self, b: int, node: int) -> float:
        """Mean root width over branch ``b``'s first stretch from ``node`` (NaN for bridges)."""
        branch = self.branch(b)
        if branch.bridge:
            return float("nan")
        widths = branch.widths if node == branch.u else branch.widths[::-1]
        return float(widths[: self.skip + 2 * self.window].mean())

    def prune_spurs(self, max_length: float) -> int:
        """Remove terminal branches shorter than ``max_length`` at junctions; return how many.

        Noise on a root's edge leaves one-or-two-pixel spurs on its skeleton.
        A junction always keeps at least two branches, so a root whose tip
        forks keeps the prong that best continues it.
        """
        removed = 0
        for node in range(len(self.nodes)):
            if self.degree(node) < 3:
                continue
            spurs = [
                b
                for b in self.incident[node]
                if self.branch(b).length < max_length
                and self.branch(b).u != self.branch(b).v
                and self.degree(self.other(b, node)) == 1
            ]
            if not spurs:
                continue
            # Remove the prongs that continue the main branch worst first.
            rest = [b for b in self.incident[node] if b not in spurs]
            main = max(rest or spurs, key=lambda b: self.branch(b).length)
            ahead = -self.away(main, node)
            spurs.sort(key=lambda b: float(self.away(b, node) @ ahead))
            for b in spurs:
                if self.degree(node) <= 2:
                    break
                self.remove_branch(b)
                removed += 1
        return removed

    def components(self) -> np.ndarray:
        """A connected-component id per node (nodes joined by branches share one)."""
        parent = list(range(len(self.nodes)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for b in self.live():
            branch = self.branch(b)
            ru, rv = root(branch.u), root(branch.v)
            if ru != rv:
                parent[max(ru, rv)] = min(ru, rv)
        return np.array([root(i) for i in range(len(self.nodes))], dtype=np.int64)

    def nearest(
        self, xy: tuple[float, float], radius: float, above_weight: float = 2.0
    ) -> tuple[int, int] | None:
        """The branch pixel nearest ``xy`` within ``radius``, as ``(branch, index)``.

        Distances upwards count ``above_weight`` times, since a root starts
        below its shoot. ``None`` when no branch pixel is that close.
        """
        ids = [b for b in self.live() if not self.branch(b).bridge]
        if not ids:
            return None
        pixels = [self.branch(b).pixels for b in ids]
        points = np.concatenate(pixels)
        owner = np.repeat(ids, [len(p) for p in pixels])
        offset = np.concatenate([np.arange(len(p)) for p in pixels])
        dx = points[:, 0] - xy[0]
        dy = points[:, 1] - xy[1]
        dist = np.hypot(dx, np.where(dy < 0, dy * above_weight, dy))
        k = int(np.argmin(dist))
        if dist[k] > radius:
            return None
        return int(owner[k]), int(offset[k])
