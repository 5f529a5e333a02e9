"""smooth_path and arc_length: lengths of pixel paths without the staircase error."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage.morphology import skeletonize

from visionkit.landmarks.polyline import arc_length, smooth_path
from visionkit.landmarks.skeleton import skeleton_graph


def _pixel_path(draw, shape=(700, 700)):
    image = np.zeros(shape, np.uint8)
    draw(image)
    graph = skeleton_graph(skeletonize(image > 0))
    longest = max(graph.live(), key=lambda b: graph.branch(b).length)
    return graph.branch(longest).pixels


@pytest.mark.parametrize("degrees", [0, 10, 22.5, 30, 45, 60])
def test_a_straight_line_at_any_angle_measures_its_length(degrees):
    a = (100, 100)
    b = (
        round(100 + 500 * math.sin(math.radians(degrees))),
        round(100 + 500 * math.cos(math.radians(degrees))),
    )
    pixels = _pixel_path(lambda image: cv2.line(image, a, b, 1, 3))

    assert arc_length(smooth_path(pixels)) == pytest.approx(math.dist(a, b), rel=0.01)


def test_the_raw_staircase_would_be_too_long():
    pixels = _pixel_path(lambda image: cv2.line(image, (100, 100), (291, 562), 1, 3))

    assert arc_length(pixels) > 1.05 * math.dist((100, 100), (291, 562))


def test_an_arc_measures_its_length_within_two_percent():
    radius = 250.0
    t = np.linspace(0.2, 2.9, 2000)
    points = np.stack([350 + radius * np.cos(t), 100 + radius * np.sin(t)], axis=1)
    pixels = _pixel_path(
        lambda image: cv2.polylines(image, [np.round(points).astype(np.int32)], False, 1, 3)
    )

    assert arc_length(smooth_path(pixels)) == pytest.approx(radius * 2.7, rel=0.02)


def test_smoothing_keeps_both_ends():
    pixels = np.array([[0, 0], [1, 1], [2, 1], [3, 2], [4, 3], [5, 3], [6, 4]], float)

    smooth = smooth_path(pixels, step=4)

    assert smooth[0] == pytest.approx(pixels[0])
    assert smooth[-1] == pytest.approx(pixels[-1])
    assert len(smooth) == 3


def test_short_paths_pass_through():
    two = np.array([[0.0, 0.0], [3.0, 4.0]])

    assert smooth_path(two) == pytest.approx(two)
    assert arc_length(two) == 5.0
    assert arc_length(two[:1]) == 0.0
