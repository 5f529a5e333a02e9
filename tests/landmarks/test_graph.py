"""RootGraph queries and edits used by the path search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.landmarks.graph import RootGraph


def _line(a, b, n=None):
    n = n or int(math.dist(a, b)) + 1
    return np.linspace(a, b, n)


def _y_graph():
    """A vertical root (0,0)->(0,100) with a lateral at (0,50) going right-down."""
    graph = RootGraph(window=10, skip=0)
    top, mid, tip, lat = (graph.add_node(p) for p in [(0, 0), (0, 50), (0, 100), (40, 80)])
    graph.add_branch(top, mid, _line((0, 0), (0, 50)), np.full(51, 3.0))
    graph.add_branch(mid, tip, _line((0, 50), (0, 100)), np.full(51, 3.0))
    graph.add_branch(mid, lat, _line((0, 50), (40, 80)), np.full(51, 1.0))
    return graph, (top, mid, tip, lat)


def test_away_points_into_the_branch_from_either_end():
    graph, (top, mid, *_) = _y_graph()

    assert graph.away(0, top) == pytest.approx([0, 1])
    assert graph.away(0, mid) == pytest.approx([0, -1])


def test_split_cuts_a_branch_and_keeps_its_pixels():
    graph, (top, *_) = _y_graph()

    node = graph.split(0, 20)

    assert graph.nodes[node] == pytest.approx([0, 20])
    assert graph.degree(node) == 2
    assert sum(graph.branch(b).length for b in graph.incident[node]) == pytest.approx(50)
    with pytest.raises(KeyError, match="branch 0 was removed"):
        graph.branch(0)
    assert graph.split(graph.incident[node][0], 0) in (top, node)


def test_nearest_prefers_pixels_below_the_point():
    graph, _ = _y_graph()

    b, k = graph.nearest((0, 30), radius=5)
    assert graph.branch(b).pixels[k] == pytest.approx([0, 30])
    assert graph.nearest((100, 30), radius=5) is None
    # The root's bottom lies 8 px above (0, 108): that counts as 16 by default.
    assert graph.nearest((0, 108), radius=10) is None
    assert graph.nearest((0, 108), radius=10, above_weight=1.0) is not None
    assert graph.nearest((0, -8), radius=10) is not None  # 8 px below counts as 8


def test_widths_compare_branches_and_bridges_have_none():
    graph, (_, mid, _, lat) = _y_graph()
    bridge = graph.add_branch(
        lat, graph.add_node((40, 90)), _line((40, 80), (40, 90)), [1] * 11, bridge=True
    )

    assert graph.width_near(1, mid) == 3.0
    assert graph.width_near(2, mid) == 1.0
    assert math.isnan(graph.width_near(bridge, lat))


def test_prune_spurs_keeps_the_prong_that_continues_the_root():
    graph = RootGraph(window=5, skip=0)
    top, fork = graph.add_node((0, 0)), graph.add_node((0, 50))
    straight, bent = graph.add_node((0, 53)), graph.add_node((-4, 52))
    graph.add_branch(top, fork, _line((0, 0), (0, 50)), np.ones(51))
    graph.add_branch(fork, straight, _line((0, 50), (0, 53)), np.ones(4))
    graph.add_branch(fork, bent, _line((0, 50), (-4, 52), 5), np.ones(5))  # longer, but turns

    assert graph.prune_spurs(10) == 1
    assert graph.degree(straight) == 1
    assert graph.degree(bent) == 0


def test_heading_at_end_looks_past_a_short_last_branch():
    graph = RootGraph(window=10, skip=0)
    top, knee, tip = graph.add_node((0, 0)), graph.add_node((0, 50)), graph.add_node((2, 52))
    graph.add_branch(top, knee, _line((0, 0), (0, 50)), np.ones(51))
    graph.add_branch(knee, tip, _line((0, 50), (2, 52), 3), np.ones(3))

    heading = graph.heading_at_end(tip)

    assert heading[1] > 0.9  # mostly down, not the 45 degrees of the last two pixels


def test_a_lone_node_has_no_heading():
    graph = RootGraph()
    node = graph.add_node((0, 0))

    assert not graph.heading_at_end(node).any()


def test_components_join_nodes_of_one_piece():
    graph, (top, _, tip, lat) = _y_graph()
    alone = graph.add_node((500, 500))

    labels = graph.components()

    assert labels[top] == labels[tip] == labels[lat]
    assert labels[alone] != labels[top]
    graph.remove_branch(2)
    assert graph.components()[lat] != graph.components()[top]
