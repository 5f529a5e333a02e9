"""opencv_threads: limits OpenCV's pool for a block and restores it."""

from __future__ import annotations

import cv2
import pytest

from visionkit.threads import opencv_threads


def test_the_setting_is_limited_inside_and_restored_after() -> None:
    before = cv2.getNumThreads()
    with opencv_threads(1):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == before
    with pytest.raises(RuntimeError), opencv_threads(1):
        raise RuntimeError("the setting comes back on errors too")
    assert cv2.getNumThreads() == before
