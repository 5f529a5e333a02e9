"""bridge_gaps: which gaps are bridged and which are not."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from visionkit.landmarks.gaps import bridge_gaps
from visionkit.landmarks.graph import RootGraph


def _polyline(graph, points):
    """One piece along ``points`` (pixel steps), its two end nodes."""
    pixels = np.concatenate(
        [np.linspace(a, b, int(math.dist(a, b)) + 1)[:-1] for a, b in itertools.pairwise(points)]
        + [np.array([points[-1]], float)]
    )
    u, v = graph.add_node(points[0]), graph.add_node(points[-1])
    graph.add_branch(u, v, pixels, np.full(len(pixels), 3.0))
    return u, v


def _piece(graph, a, b):
    return _polyline(graph, [a, b])


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


def test_a_tip_beside_a_lateral_just_joined_to_its_root_is_not_tied_onto_it():
    # The primary runs straight down to its tip at y = 200. A lateral whose first
    # pixels the mask lost starts 3 px beside it and runs on below the tip, 4 px aside.
    graph = RootGraph(window=10)
    _, tip = _piece(graph, (100, 0), (100, 200))
    top, _ = _polyline(graph, [(103, 120), (106, 160), (104, 210), (104, 300)])

    assert bridge_gaps(graph, max_gap_px=30) == 1
    (bridge,) = _bridges(graph)
    assert top in (bridge.u, bridge.v)  # the lateral is joined back to its root
    assert graph.degree(tip) == 1  # and the primary still ends at its own tip


def test_a_side_point_next_to_an_end_joins_the_end_itself():
    # A root broken at y = 100-104, the lower piece a little aside: each end sees
    # the other piece's side 2 px from that piece's end, not its end.
    graph = RootGraph(window=10)
    _, upper_end = _piece(graph, (50, 0), (50, 100))
    lower_top, _ = _piece(graph, (55, 104), (55, 200))

    assert bridge_gaps(graph, max_gap_px=30) == 1
    (bridge,) = _bridges(graph)
    assert {bridge.u, bridge.v} == {upper_end, lower_top}
    assert all(graph.degree(n) <= 2 for n in range(len(graph.nodes)))  # no spur cut off
