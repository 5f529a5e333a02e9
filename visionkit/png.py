"""PNG encoders fast enough to run beside inference: images, overlays and 1-bit masks.

``visionkit predict`` writes three masks and an overlay for every frame on a
writer thread that shares the CPU with the next frame's inference, so every
millisecond spent encoding is a millisecond the network does not get.
Pillow and libpng spend most of it choosing a filter per row and in zlib;
here the filter is fixed (one NumPy operation per image) and the deflate
stream comes from ISA-L (``python-isal``) when it is installed: a 2048 px
overlay compresses in about 20 ms there against about 85 ms in zlib at level
1, and comes out smaller. Without ISA-L, zlib does the same job more slowly.
Every file is a plain PNG that any reader decodes.
"""

from __future__ import annotations

import logging
import struct
import zlib
from types import ModuleType

import numpy as np

from visionkit.exceptions import ImageError

__all__ = ["FAST_LEVELS", "deflate", "encode_mask_png", "encode_png", "plain", "png_compressor"]

logger = logging.getLogger(__name__)

#: zlib levels that ISA-L serves with its own level of the same number (it has 0-3,
#: where 0 still compresses; zlib's 0 stores, so it stays with zlib).
FAST_LEVELS = (1, 2, 3)

_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type: grey, RGB, RGBA
_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _load_isal() -> ModuleType | None:
    try:
        from isal import isal_zlib
    except ImportError:  # a platform without its wheel: zlib does the work
        logger.debug("python-isal is not installed; PNGs are compressed with zlib")
        return None
    return isal_zlib


_isal: ModuleType | None = _load_isal()


def png_compressor(level: int) -> str:
    """Which library compresses at zlib ``level``: ``"isal"`` or ``"zlib"``."""
    return "isal" if _isal is not None and level in FAST_LEVELS else "zlib"


def deflate(data: bytes | memoryview, level: int) -> bytes:
    """``data`` as a zlib stream (what a PNG's IDAT holds) at zlib ``level`` 0-9.

    Raises:
        ImageError: ``level`` is outside 0-9.
    """
    if not 0 <= level <= 9:
        raise ImageError(f"PNG zlib level must be 0-9, got {level}")
    if _isal is not None and level in FAST_LEVELS:
        return bytes(_isal.compress(data, level))
    return zlib.compress(data, level)


def plain(array: np.ndarray) -> bool:
    """Whether :func:`encode_png` takes ``array``: non-empty 8-bit grey, RGB or RGBA."""
    channels = 1 if array.ndim == 2 else array.shape[2] if array.ndim == 3 else 0
    return array.dtype == np.uint8 and channels in _COLOUR_TYPES and array.size > 0


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png(
    width: int, height: int, bit_depth: int, colour_type: int, rows: np.ndarray, level: int
) -> bytes:
    """A PNG file around ``rows`` (each already led by its filter byte)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"".join(
        (
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", deflate(rows.data, level)),
            _chunk(b"IEND", b""),
        )
    )


def encode_png(array: np.ndarray, level: int = 1) -> bytes:
    """An 8-bit grey, RGB or RGBA image as PNG bytes, every row with the Sub filter.

    The Sub filter (each byte minus the one a pixel to its left) is one NumPy
    subtraction and suits both the plates' smooth agar and the overlays.

    Raises:
        ImageError: ``array`` is not 8-bit grey, RGB or RGBA, or ``level`` is
            outside 0-9.
    """
    if not plain(array):
        raise ImageError(
            f"encode_png takes 8-bit grey, RGB or RGBA, got {array.dtype} {array.shape}"
        )
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    rows = np.ascontiguousarray(array).reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), np.uint8)
    filtered[:, 0] = 1  # filter type Sub
    filtered[:, 1 : channels + 1] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=filtered[:, channels + 1 :])
    return _png(width, height, 8, _COLOUR_TYPES[channels], filtered, level)


def encode_mask_png(mask: np.ndarray, level: int = 1) -> bytes:
    """A binary mask as a 1-bit grayscale PNG: every pixel above 0 white.

    A 1-bit file holds an eighth of the bytes, and a plate's masks are mostly
    zeros, so a full Hades frame's mask encodes in a few milliseconds
    (``np.packbits`` and a deflate of about 1.6 MB) and comes out small.
    OpenCV, Fiji, browsers and :func:`visionkit.imageio.read_image` decode it
    as 0 and 255; Pillow opens it in mode ``"1"`` (``np.asarray`` gives
    booleans).

    Raises:
        ImageError: ``mask`` is not a non-empty 2-D array, or ``level`` is
            outside 0-9.
    """
    array = np.asarray(mask)
    if array.ndim != 2 or array.size == 0:
        raise ImageError(f"a mask must be a non-empty 2-D array, got shape {array.shape}")
    height, width = array.shape
    bits = array if array.dtype in (np.bool_, np.uint8) else array > 0
    packed = np.packbits(bits, axis=1)  # most significant bit first, rows padded with 0s
    rows = np.empty((height, packed.shape[1] + 1), np.uint8)
    rows[:, 0] = 0  # filter type None: runs of zero bytes compress by themselves
    rows[:, 1:] = packed
    return _png(width, height, 1, 0, rows, level)
