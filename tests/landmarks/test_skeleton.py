"""skeleton_graph: junctions, endpoints, crossings and rings found in drawn skeletons."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.morphology import skeletonize

from visionkit.landmarks.skeleton import skeleton_graph


def _graph(draw, shape=(300, 300), **kwargs):
    image = np.zeros(shape, np.uint8)
    draw(image)
    return skeleton_graph(skeletonize(image > 0), **kwargs)


def _degrees(graph):
    return sorted(graph.degree(n) for n in range(len(graph.nodes)) if graph.incident[n])


def test_a_y_has_one_junction_and_three_endpoints():
    def draw(image):
        cv2.line(image, (150, 10), (150, 280), 1, 3)
        cv2.line(image, (150, 150), (250, 250), 1, 2)

    graph = _graph(draw)

    assert _degrees(graph) == [1, 1, 1, 3]
    total = sum(graph.branch(b).length for b in graph.live())
    assert total == pytest.approx(270 + 100 * np.sqrt(2), rel=0.08)


def test_two_roots_crossing_meet_in_one_node_of_four_branches():
    def draw(image):
        cv2.line(image, (150, 10), (150, 290), 1, 3)
        cv2.line(image, (60, 40), (240, 260), 1, 3)

    graph = _graph(draw, merge_px=15)

    assert _degrees(graph) == [1, 1, 1, 1, 4]


def test_without_merging_a_crossing_may_split_into_two_junctions():
    def draw(image):
        cv2.line(image, (150, 10), (150, 290), 1, 3)
        cv2.line(image, (100, 10), (200, 290), 1, 3)  # shallow: a long shared stretch

    merged = _graph(draw, merge_px=40)
    unmerged = _graph(draw, merge_px=0)

    assert _degrees(merged)[-1] == 4
    assert _degrees(unmerged)[-2:] == [3, 3]


def test_a_ring_is_one_branch_that_returns_to_its_node():
    graph = _graph(lambda image: cv2.circle(image, (150, 150), 40, 1, 2))

    (b,) = graph.live()
    branch = graph.branch(b)
    assert branch.u == branch.v
    assert branch.length == pytest.approx(2 * np.pi * 40, rel=0.12)


def test_a_staircase_line_has_no_junction():
    image = np.zeros((200, 200), bool)
    cv2.line(image.view(np.uint8), (10, 10), (190, 80), 1, 1, cv2.LINE_4)

    graph = skeleton_graph(image)

    assert _degrees(graph) == [1, 1]


def test_coordinates_are_shifted_by_the_origin_and_carry_widths():
    image = np.zeros((50, 50), bool)
    image[5:45, 20] = True
    widths = np.full((50, 50), 3.0)

    graph = skeleton_graph(image, origin=(100, 200), widths=widths)

    (b,) = graph.live()
    ends = {tuple(graph.branch(b).pixels[0]), tuple(graph.branch(b).pixels[-1])}
    assert ends == {(120.0, 205.0), (120.0, 244.0)}
    assert np.all(graph.branch(b).widths == 3.0)


def test_an_empty_skeleton_gives_an_empty_graph():
    graph = skeleton_graph(np.zeros((20, 20), bool))

    assert graph.nodes == []
    assert graph.live() == []


def test_isolated_pixels_make_no_branch():
    image = np.zeros((20, 20), bool)
    image[5, 5] = image[10, 10] = image[10, 11] = True

    assert skeleton_graph(image).live() == []
