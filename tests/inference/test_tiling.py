"""Tiles cover every pixel and blend without seams."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from visionkit.inference.tiling import (
    TileBlender,
    balanced_tile,
    cosine_ramp,
    tile_starts,
    tile_window,
    tiles,
)


@pytest.mark.parametrize(
    ("length", "tile", "overlap"),
    [(100, 512, 64), (512, 512, 64), (513, 512, 64), (1350, 512, 64), (1000, 256, 0), (97, 32, 31)],
)
def test_tiles_cover_every_pixel_and_stay_inside(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    covered = np.zeros(length, bool)
    for start in starts:
        assert start >= 0
        assert start + min(tile, length) <= length
        covered[start : start + tile] = True
    assert covered.all()
    assert starts == sorted(set(starts))
    if length > tile:
        assert starts[-1] == length - tile
        assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


def test_bad_tile_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        tile_starts(100, 32, 32)
    with pytest.raises(ValueError, match="tile"):
        tile_starts(100, 0, 0)


def test_rectangular_tiles_cover_a_wide_image() -> None:
    positions = tiles(40, 300, (40, 128), 16)
    assert {y for y, _ in positions} == {0}
    assert [x for _, x in positions] == tile_starts(300, 128, 16)


def test_window_is_one_inside_and_only_falls_off_towards_neighbours() -> None:
    window = tile_window(64, 64, 16, top=False, left=False)
    assert window[0, 0] == 1.0  # image corner: nothing overlaps, full weight
    assert window[32, 32] == 1.0
    assert 0 < window[63, 63] < 0.01  # next to two neighbours
    assert np.all(np.diff(window[40, 48:]) < 0)  # falls off smoothly
    ramp = cosine_ramp(16)
    np.testing.assert_allclose(ramp + ramp[::-1], 1.0, atol=1e-6)  # neighbours sum to one


def _blend(image: np.ndarray, tile: int, overlap: int, fn) -> np.ndarray:  # type: ignore[no-untyped-def]
    h, w = image.shape
    blender = TileBlender(1, h, w, overlap)
    for y, x in tiles(h, w, tile, overlap):
        blender.add(fn(image[None, y : y + tile, x : x + tile]), y, x)
    return blender.result()[0]


def test_a_constant_model_gives_a_constant_map() -> None:
    image = np.zeros((300, 413), np.float32)
    out = _blend(image, 128, 32, lambda t: np.full_like(t, 0.37))
    np.testing.assert_allclose(out, 0.37, rtol=0, atol=1e-6)


def test_a_position_dependent_pattern_is_reconstructed_without_seams() -> None:
    yy, xx = np.mgrid[0:300, 0:413].astype(np.float32)
    pattern = np.sin(xx / 7.0) * np.cos(yy / 11.0) + xx / 413.0
    out = _blend(pattern, 128, 32, lambda t: t * 2.0)
    np.testing.assert_allclose(out, 2.0 * pattern, rtol=0, atol=1e-5)


def test_a_blender_blends_once() -> None:
    blender = TileBlender(1, 64, 64, 16)
    blender.add(np.ones((1, 64, 64), np.float32), 0, 0)
    blender.result()
    with pytest.raises(RuntimeError, match="already called"):
        blender.add(np.ones((1, 64, 64), np.float32), 0, 0)


def test_tile_edge_errors_are_blended_away_not_left_as_seams() -> None:
    """A network is worst at a tile's edge; the windows must hide that, not show a step."""

    def edgy(t: np.ndarray) -> np.ndarray:
        _, h, w = t.shape
        yy, xx = np.mgrid[0:h, 0:w]
        border = np.minimum(np.minimum(yy, h - 1 - yy), np.minimum(xx, w - 1 - xx))
        return t + np.where(border < 8, 0.2, 0.0)[None].astype(np.float32)

    image = np.zeros((256, 400), np.float32)
    out = _blend(image, 128, 48, edgy)[8:-8, 8:-8]  # the image's own border has no neighbour
    steps = max(np.abs(np.diff(out, axis=0)).max(), np.abs(np.diff(out, axis=1)).max())
    assert steps < 0.02  # a hard seam would jump by 0.2
    assert out[52:192, 52:332].max() < 0.05  # interior error mostly weighted away


@pytest.mark.parametrize("length", [100, 700, 900, 1080, 1350, 3000])
def test_balanced_tiles_need_no_more_tiles_and_waste_less(length: int) -> None:
    side = balanced_tile(length, 768, 64)
    assert side % 32 == 0
    assert side <= 768
    assert len(tile_starts(length, side, 64)) == len(tile_starts(length, 768, 64))
    if length > 768:
        assert side < 768
        assert all(b - a <= side - 64 for a, b in itertools.pairwise(tile_starts(length, side, 64)))
    assert balanced_tile(1350, 768, 64) == 736
