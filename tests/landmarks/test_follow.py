"""A root followed on the image beyond the map's tip (visionkit.landmarks.follow)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.landmarks.test_fine_tip import _shortened
from tests.landmarks.test_trail import PX_PER_MM, _fading_roots, _path
from tests.landmarks.test_trail import _agar as agar
from visionkit.landmarks.follow import FOLLOW_MAX_MM, follow_trail


def _agar() -> np.ndarray:
    return agar(height=500)


def test_a_root_fading_on_beyond_the_tip_is_followed_to_its_end():
    image = _agar()
    cv2.line(image, (150, 60), (150, 200), 150, 4)  # 20 grey levels: what the map saw
    cv2.line(image, (150, 200), (160, 270), 158, 3)  # 12 more, bending a little, to y = 270
    path = _path(60, 200)
    followed = follow_trail(path, image, px_per_mm=PX_PER_MM)
    assert len(followed) > len(path)
    np.testing.assert_array_equal(followed[: len(path)], path)
    assert np.hypot(*(followed[-1] - (160, 270))) <= 0.5 * PX_PER_MM


def test_a_root_that_ends_at_the_tip_is_left_alone():
    image = _agar()
    cv2.line(image, (150, 60), (150, 200), 150, 4)
    path = _path(60, 200)
    np.testing.assert_array_equal(follow_trail(path, image, px_per_mm=PX_PER_MM), path)


def test_a_droplet_beyond_the_tip_is_not_a_trail():
    image = _agar()
    cv2.line(image, (150, 60), (150, 200), 150, 4)
    cv2.circle(image, (152, 222), 9, 120, 2)  # a droplet's dark rim 1 mm on
    path = _path(60, 200)
    np.testing.assert_array_equal(follow_trail(path, image, px_per_mm=PX_PER_MM), path)


def test_the_walk_ends_at_the_longest_follow_or_the_image_edge():
    image = _agar()
    cv2.line(image, (150, 60), (150, 499), 150, 4)  # goes on to the image's bottom edge
    followed = follow_trail(_path(60, 200), image, px_per_mm=PX_PER_MM)
    walked = np.hypot(*np.diff(followed[-2:], axis=0).T).sum()
    assert walked > 0
    assert followed[-1, 1] - 200 <= FOLLOW_MAX_MM * PX_PER_MM + 1
    assert followed[-1, 1] < 500
    with pytest.raises(ValueError, match="px_per_mm must be positive"):
        follow_trail(_path(60, 200), image, px_per_mm=-1.0)


def test_fading_roots_cut_short_end_nearer_their_true_ends():
    before, after, untouched = [], [], 0
    for image, ppm, path in _fading_roots():
        cut = _shortened(path, 2.0, ppm)
        before.append(np.hypot(*(cut[-1] - path[-1])) / ppm)
        after.append(np.hypot(*(follow_trail(cut, image, px_per_mm=ppm)[-1] - path[-1])) / ppm)
        untouched += len(follow_trail(path, image, px_per_mm=ppm)) == len(path)
    assert len(before) >= 4
    assert np.mean(after) < np.mean(before)
    assert sum(a <= 0.5 for a in after) >= len(after) - 1  # 2 mm short -> within 0.5 mm
    assert untouched >= len(before) - 1  # a real end is not walked past
