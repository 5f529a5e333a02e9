"""bridge_gaps: which gaps are bridged and which are not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.landmarks.gaps import bridge_gaps
from visionkit.landmarks.graph import RootGraph


def _piece(graph, a, b):
    u, v = graph.add_node(a), graph.add_node(b)
    n = int(math.dist(a, b)) + 1
    graph.add_branch(u, v, np.linspace(a, b, n), np.full(n, 3.0))
    return u, v


def _bridges(graph):
    return [graph.branch(b) for b in graph.live() if graph.branch(b).bridge]


def test_collinear_pieces_are_bridged_end_to_end():
    graph = RootGraph(window=10)
    _, end = _piece(graph, (50, 0), (50, 100))
    start, _ = _piece(graph, (50, 125), (50, 300))

    assert bridge_gaps(graph, max_gap_px=30) == 1
    (bridge,) = _bridges(graph)
    assert {bridge.u, bridge.v} == {end, start}
    assert bridge.length == 25


def test_a_gap_longer_than_the_limit_stays_open():
    graph = RootGraph(window=10)
    _piece(graph, (50, 0), (50, 100))
    _piece(graph, (50, 140), (50, 300))

    assert bridge_gaps(graph, max_gap_px=30) == 0


def test_a_piece_off_to_the_side_is_not_in_the_cone():
    graph = RootGraph(window=10)
    _piece(graph, (50, 0), (50, 100))
    _piece(graph, (70, 108), (70, 300))  # 20 px aside, 8 px on

    assert bridge_gaps(graph, max_gap_px=30) == 0


def test_a_piece_that_does_not_point_back_is_not_joined_end_to_end():
    graph = RootGraph(window=10)
    _piece(graph, (50, 0), (50, 100))
    _piece(graph, (50, 115), (150, 115))  # its end lies ahead, but it runs sideways

    assert bridge_gaps(graph, max_gap_px=30, side_gap_px=0) == 0


def test_an_end_is_joined_to_the_side_of_a_piece_just_ahead():
    graph = RootGraph(window=10)
    _, end = _piece(graph, (50, 0), (50, 100))
    _piece(graph, (0, 104), (100, 104))  # runs across, 4 px below the end

    assert bridge_gaps(graph, max_gap_px=30) == 1
    (bridge,) = _bridges(graph)
    assert bridge.u == end
    assert graph.nodes[bridge.v] == pytest.approx((50, 104))
    assert graph.degree(bridge.v) == 3  # the crossing piece was split there


def test_each_end_is_bridged_at_most_once_cheapest_first():
    graph = RootGraph(window=10)
    _, end = _piece(graph, (50, 0), (50, 100))
    near, _ = _piece(graph, (50, 110), (50, 200))
    _piece(graph, (52, 120), (52, 300))

    assert bridge_gaps(graph, max_gap_px=30, side_gap_px=0) == 1
    (bridge,) = _bridges(graph)
    assert {bridge.u, bridge.v} == {end, near}


def test_nothing_to_bridge_without_ends():
    graph = RootGraph()

    assert bridge_gaps(graph, max_gap_px=30) == 0
