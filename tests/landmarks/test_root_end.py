"""extend_to_root_end: a primary root's tip is carried on to the root's own end."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.landmarks.root_end import MAX_EXTENSION_MM, extend_to_root_end

PPM = 10.0  # map pixels per mm, the working scale


def _down(x: float, y0: float, y1: float) -> np.ndarray:
    ys = np.arange(y0, y1 + 1, dtype=np.float64)
    return np.stack([np.full_like(ys, x), ys], axis=1)


def test_the_tip_moves_on_to_the_last_root_pixel() -> None:
    root = np.zeros((100, 60), np.float32)
    root[10:71, 29:32] = 0.9  # the root ends on row 70
    path = _down(30, 12, 68)  # a skeleton stops short of it

    out = extend_to_root_end(path, root=root, px_per_mm=PPM)

    assert out[-1] == pytest.approx([30.0, 70.0], abs=0.01)  # that pixel's centre
    assert np.array_equal(out[: len(path)], path)


def test_a_faint_end_below_the_threshold_is_not_root() -> None:
    root = np.zeros((100, 60), np.float32)
    root[10:69, 29:32] = 0.9
    root[69:80, 29:32] = 0.3  # fading out
    path = _down(30, 12, 68)

    out = extend_to_root_end(path, root=root, px_per_mm=PPM, threshold=0.5)

    assert out[-1][1] <= 68.5  # at most to the last strong pixel's edge
    assert np.array_equal(out[: len(path)], path)


def test_the_walk_stops_at_the_limit_and_never_jumps_a_gap() -> None:
    root = np.zeros((120, 60), np.float32)
    root[10:120, 29:32] = 0.9
    path = _down(30, 12, 50)
    out = extend_to_root_end(path, root=root, px_per_mm=PPM)
    # the walk's last point, less half a pixel back to that pixel's centre
    assert float(np.hypot(*(out[-1] - path[-1]))) == pytest.approx(MAX_EXTENSION_MM * PPM - 0.5)

    root[52:54] = 0.0  # a gap right after the tip
    root[54:] = 0.9
    gapped = extend_to_root_end(path, root=root, px_per_mm=PPM)
    assert gapped[-1][1] < 52.0


@pytest.mark.parametrize("path", [np.zeros((0, 2)), np.array([[5.0, 5.0]])])
def test_degenerate_paths_come_back_unchanged(path: np.ndarray) -> None:
    root = np.ones((10, 10), np.float32)
    out = extend_to_root_end(path, root=root, px_per_mm=PPM)
    assert np.array_equal(out, path)
