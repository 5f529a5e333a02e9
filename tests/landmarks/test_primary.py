"""The primary-path search on small hand-built graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.landmarks.graph import RootGraph
from visionkit.landmarks.primary import candidate_paths, choose_primaries, path_pixels


def _add(graph, u, v, width=3.0):
    a, b = graph.nodes[u], graph.nodes[v]
    n = max(2, int(math.dist(a, b)) + 1)
    return graph.add_branch(u, v, np.linspace(a, b, n), np.full(n, width))


def test_the_straight_continuation_beats_a_longer_lateral_that_ends_lower():
    graph = RootGraph(window=15)
    top, fork, tip, lateral = (
        graph.add_node(p) for p in [(100, 0), (100, 400), (100, 600), (300, 700)]
    )
    _add(graph, top, fork)
    _add(graph, fork, tip)
    _add(graph, fork, lateral, width=2.0)

    best, *rest = candidate_paths(graph, top)

    assert best.end == tip
    assert [p.end for p in rest] == [lateral]
    assert best.turns[-1] == 1.0
    assert rest[0].turns[-1] < 0.5
    assert path_pixels(graph, best)[-1] == pytest.approx([100, 600])


def test_a_lateral_leaving_20_degrees_off_does_not_win_by_running_three_times_as_far():
    # The primary goes on 5 degrees from the root's course for 50 px; a lateral of
    # the same width leaves 25 degrees off and runs 160 px (issue 14's long laterals).
    graph = RootGraph(window=15)
    top, fork = graph.add_node((100, 0)), graph.add_node((100, 100))
    a, b = math.radians(5), math.radians(25)
    tip = graph.add_node((100 + 50 * math.sin(a), 100 + 50 * math.cos(a)))
    lateral = graph.add_node((100 + 160 * math.sin(b), 100 + 160 * math.cos(b)))
    for u, v in ((top, fork), (fork, tip), (fork, lateral)):
        _add(graph, u, v)

    assert candidate_paths(graph, top)[0].end == tip
    # The first setting, sigma 25 degrees, took the lateral.
    assert candidate_paths(graph, top, turn_sigma_deg=25.0)[0].end == lateral


def test_blocked_branches_and_nodes_stop_the_search():
    graph = RootGraph(window=15)
    top, fork, tip, other = (graph.add_node(p) for p in [(0, 0), (0, 100), (0, 200), (50, 180)])
    _add(graph, top, fork)
    down = _add(graph, fork, tip)
    _add(graph, fork, other)

    assert candidate_paths(graph, top, blocked_branches=frozenset({down}))[0].end == other
    assert {p.end for p in candidate_paths(graph, top, blocked_nodes=frozenset({fork}))} == {fork}
    assert len(candidate_paths(graph, top, max_paths=1)) == 1
    lone = RootGraph()
    assert candidate_paths(lone, lone.add_node((0, 0))) == []


def test_a_root_that_merges_into_its_neighbours_ends_where_it_meets_it():
    graph = RootGraph(window=15)
    a_top, b_top, meet, b_tip = (
        graph.add_node(p) for p in [(300, 0), (450, 0), (450, 300), (450, 700)]
    )
    _add(graph, a_top, meet)  # plant A slants into plant B's root
    _add(graph, b_top, meet)
    _add(graph, meet, b_tip)

    (a, _), (b, _) = choose_primaries(graph, [a_top, b_top])

    assert b is not None
    assert b.end == b_tip
    assert a is not None
    assert a.end == meet


def test_a_plant_without_start_has_no_path():
    graph = RootGraph()
    top, tip = graph.add_node((0, 0)), graph.add_node((0, 50))
    _add(graph, top, tip)

    (first, _), (second, others) = choose_primaries(graph, [top, None])

    assert first is not None
    assert first.end == tip
    assert second is None
    assert others == []
    assert path_pixels(graph, first)[0] == pytest.approx([0, 0])
