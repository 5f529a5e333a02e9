"""The PNG encoders write files that other readers decode exactly, with ISA-L and without."""

from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from visionkit import png
from visionkit.exceptions import ImageError
from visionkit.imageio import decode_image
from visionkit.png import deflate, encode_mask_png, encode_png, png_compressor


@pytest.fixture(params=["isal", "zlib"])
def compressor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs once with ISA-L (installed with visionkit) and once with zlib alone."""
    if request.param == "zlib":
        monkeypatch.setattr(png, "_isal", None)
    else:
        assert png._isal is not None, "python-isal is a dependency of visionkit"
    assert png_compressor(1) == request.param
    return str(request.param)


def _pillow(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()  # checks every chunk's CRC and the zlib stream
    return image


@pytest.mark.parametrize("shape", [(31, 17), (31, 17, 3), (5, 1, 4), (1, 9, 3)])
@pytest.mark.parametrize("level", [0, 1, 3, 6])
def test_encode_png_round_trips_through_pillow_and_opencv(
    compressor: str, shape: tuple[int, ...], level: int
) -> None:
    pixels = np.random.default_rng(11).integers(0, 256, size=shape, dtype=np.uint8)
    data = encode_png(pixels, level)
    with _pillow(data) as image:
        channels = 1 if len(shape) == 2 else shape[2]
        assert image.mode == {1: "L", 3: "RGB", 4: "RGBA"}[channels]
        assert np.array_equal(np.asarray(image), pixels)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None
    if channels == 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    elif channels == 4:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA)
    assert np.array_equal(decoded.reshape(pixels.shape), pixels)


def test_deflate_gives_a_zlib_stream_at_every_level(compressor: str) -> None:
    data = np.random.default_rng(2).integers(0, 40, size=50_000, dtype=np.uint8).tobytes()
    for level in range(10):
        assert zlib.decompress(deflate(data, level)) == data
    assert png_compressor(0) == "zlib", "level 0 stores; ISA-L's 0 would compress"
    assert png_compressor(6) == "zlib"


@pytest.mark.parametrize("width", [1, 7, 8, 9, 53])
def test_a_mask_round_trips_as_1_bit_whatever_its_width(compressor: str, width: int) -> None:
    bits = np.random.default_rng(width).random((13, width)) < 0.4
    data = encode_mask_png(bits.astype(np.uint8) * 255)
    with _pillow(data) as image:
        assert image.mode == "1"
        assert np.array_equal(np.asarray(image), bits)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded is not None
    assert np.array_equal(decoded, np.where(bits, 255, 0))


@pytest.mark.parametrize(
    ("values", "dtype"),
    [([0, 1, 2, 128, 254, 255], np.uint8), ([0, 1, 2, 128, 254, 255], np.int32),
     ([0.0, 0.5, 2.0, -1.0, 0.0, 3.0], np.float32), ([0, 1, 1, 1, 0, 1], bool)],
)  # fmt: skip
def test_any_value_above_zero_is_white(values: list[float], dtype: type) -> None:
    decoded, _ = decode_image(encode_mask_png(np.array([values], dtype=dtype)))
    assert decoded.tolist() == [[255 if v > 0 else 0 for v in values]]


def test_a_frame_sized_mask_is_small() -> None:
    mask = np.zeros((3006, 4202), np.uint8)
    cv2.line(mask, (2000, 300), (2100, 2600), 255, 3)
    data = encode_mask_png(mask)
    assert len(data) < 40_000, "a mostly empty frame's mask compresses to a few kilobytes"
    assert np.array_equal(decode_image(data)[0], mask)


def test_the_encoders_refuse_what_they_cannot_write() -> None:
    with pytest.raises(ImageError, match="8-bit grey, RGB or RGBA"):
        encode_png(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageError, match="8-bit grey, RGB or RGBA"):
        encode_png(np.zeros((4, 4), np.float32))
    with pytest.raises(ImageError, match="0-9"):
        encode_png(np.zeros((4, 4), np.uint8), 10)
    with pytest.raises(ImageError, match="0-9"):
        deflate(b"x", -1)
    with pytest.raises(ImageError, match="2-D"):
        encode_mask_png(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ImageError, match="2-D"):
        encode_mask_png(np.zeros((0, 4), np.uint8))
