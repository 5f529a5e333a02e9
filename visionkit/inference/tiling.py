"""Cut a working image into overlapping tiles and blend the tiles' outputs back.

A full dish at working scale (about 1350 x 1350 pixels at half scale) is cut
into ``tile`` x ``tile`` windows that overlap by ``overlap`` pixels; the
last tile in a row or column is placed flush with the image's edge, so every
pixel is covered and no tile runs off the image. Each tile's output is
weighted by a window that is 1 in the middle and falls off as a raised
cosine over the ``overlap`` pixels next to a *neighbouring* tile (never at
the image's own border, where nothing overlaps): the network sees the least
context at a tile's edge, so those pixels count least, and the weights of
two neighbours sum smoothly, so there are no seams. The blended value is
the weighted sum divided by the summed weights, which keeps a constant
exact and a pixel-wise output bit-for-bit where tiles agree.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TileBlender", "balanced_tile", "cosine_ramp", "tile_starts", "tile_window", "tiles"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``0..length`` with ``overlap``.

    The last start is ``length - tile`` so the last tile ends at the edge;
    when ``length <= tile`` one tile at 0 covers everything.

    Raises:
        ValueError: ``tile`` is not positive or ``overlap`` is not in ``[0, tile)``.
    """
    if tile <= 0 or not 0 <= overlap < tile:
        raise ValueError(f"need tile > 0 and 0 <= overlap < tile, got tile={tile}, {overlap=}")
    if length <= tile:
        return [0]
    stride = tile - overlap
    count = math.ceil((length - tile) / stride) + 1
    starts = [min(i * stride, length - tile) for i in range(count)]
    return sorted(set(starts))


def balanced_tile(length: int, tile: int, overlap: int, multiple: int = 32) -> int:
    """The smallest tile side covering ``length`` with as few tiles as a ``tile`` side would.

    A 1350 px side with 768 px tiles needs two tiles either way, but two
    736 px tiles do it with 13 % fewer pixels to compute than two 768 px
    ones. Never more than ``tile`` rounded up to ``multiple``; at least
    ``length`` rounded up when one tile suffices.
    """
    cap = max(multiple, math.ceil(tile / multiple) * multiple)
    whole = max(multiple, math.ceil(length / multiple) * multiple)
    if whole <= cap:
        return whole
    count = math.ceil((length - overlap) / (cap - overlap))
    side = math.ceil((length + (count - 1) * overlap) / count)
    return min(cap, max(multiple, math.ceil(side / multiple) * multiple))


def tiles(
    height: int, width: int, tile: int | tuple[int, int], overlap: int
) -> list[tuple[int, int]]:
    """``(y0, x0)`` of every tile covering a ``height`` x ``width`` image, row by row.

    ``tile`` is a side, or ``(tile_height, tile_width)``.
    """
    tile_h, tile_w = (tile, tile) if isinstance(tile, int) else tile
    return [
        (y0, x0)
        for y0 in tile_starts(height, tile_h, overlap)
        for x0 in tile_starts(width, tile_w, overlap)
    ]


def cosine_ramp(length: int) -> np.ndarray:
    """``length`` weights rising from near 0 to near 1 as a raised cosine (all > 0)."""
    k = (np.arange(length, dtype=np.float64) + 0.5) / max(length, 1)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * k), dtype=np.float32)


def _axis_weights(size: int, ramp: int, low: bool, high: bool) -> np.ndarray:
    weights = np.ones(size, dtype=np.float32)
    ramp = min(ramp, size // 2)
    if ramp > 0:
        rising = cosine_ramp(ramp)
        if low:
            weights[:ramp] = rising
        if high:
            weights[size - ramp :] = rising[::-1]
    return weights


def tile_window(
    height: int,
    width: int,
    overlap: int,
    *,
    top: bool = True,
    bottom: bool = True,
    left: bool = True,
    right: bool = True,
) -> np.ndarray:
    """The ``(height, width)`` blending weights of one tile.

    Args:
        overlap: width of the cosine fall-off in pixels.
        top, bottom, left, right: whether that side borders another tile;
            a side on the image's edge keeps full weight.
    """
    rows = _axis_weights(height, overlap, top, bottom)
    cols = _axis_weights(width, overlap, left, right)
    return np.outer(rows, cols).astype(np.float32)


class TileBlender:
    """Accumulates weighted tile outputs into one ``(channels, height, width)`` map.

    A tile's side that touches the map's border keeps full weight; the
    others fall off over ``overlap`` pixels (see :func:`tile_window`).

    Args:
        channels: output channels per pixel.
        height, width: the full map's size.
        overlap: the blending fall-off in pixels.
    """

    def __init__(self, channels: int, height: int, width: int, overlap: int) -> None:
        self.height, self.width = height, width
        self.overlap = overlap
        self._sum = np.zeros((channels, height, width), dtype=np.float32)
        self._weight = np.zeros((height, width), dtype=np.float32)
        self._windows: dict[tuple[int, int, bool, bool, bool, bool], np.ndarray] = {}
        self._spent = False
        self._scratch = np.empty((0, 0), dtype=np.float32)

    def _window(self, y0: int, x0: int, h: int, w: int) -> np.ndarray:
        sides = (
            y0 > 0,
            y0 + h < self.height,
            x0 > 0,
            x0 + w < self.width,
        )
        key = (h, w, *sides)
        if key not in self._windows:
            top, bottom, left, right = sides
            self._windows[key] = tile_window(
                h, w, self.overlap, top=top, bottom=bottom, left=left, right=right
            )
        return self._windows[key]

    def add(self, values: np.ndarray, y0: int, x0: int) -> None:
        """Add one tile's ``(channels, h, w)`` output whose top-left is ``(y0, x0)``."""
        if self._spent:
            raise RuntimeError("TileBlender.result() was already called; blend into a new one")
        _, h, w = values.shape
        window = self._window(y0, x0, h, w)
        target = self._sum[:, y0 : y0 + h, x0 : x0 + w]
        # One plane-sized scratch, reused: a fresh temporary per tile would be
        # fresh pages from the OS each time, which costs more than the product.
        if self._scratch.shape[0] < h or self._scratch.shape[1] < w:
            self._scratch = np.empty((h, w), dtype=np.float32)
        product = self._scratch[:h, :w]
        for channel, plane in enumerate(values):
            np.multiply(plane, window, out=product)
            target[channel] += product
        self._weight[y0 : y0 + h, x0 : x0 + w] += window

    def result(self, fill: np.ndarray | None = None) -> np.ndarray:
        """The blended map; pixels no tile covered are 0, or ``fill`` (one value per channel).

        A sparse pass (:mod:`~visionkit.inference.sparse`) skips tiles and
        fills what they would have covered with the background class. The
        map is normalised in place, so the blender is spent afterwards.

        Raises:
            RuntimeError: ``result`` was already called.
            ValueError: ``fill`` has not one value per channel.
        """
        if self._spent:
            raise RuntimeError("TileBlender.result() was already called; blend into a new one")
        self._spent = True
        covered = self._weight > 0
        weight = np.where(covered, self._weight, np.float32(1.0))
        out = np.divide(self._sum, weight, out=self._sum)
        if fill is not None and not covered.all():
            values = np.asarray(fill, dtype=np.float32).reshape(-1)
            if values.shape[0] != out.shape[0]:
                raise ValueError(f"fill needs {out.shape[0]} values, got {values.shape[0]}")
            empty = ~covered
            for channel, value in enumerate(values):
                np.copyto(out[channel], value, where=empty)
        return out
