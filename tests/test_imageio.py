"""Image reading normalises every Hades layout to 8-bit and refuses bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from visionkit.exceptions import ImageReadError, ImageTooLargeError
from visionkit.imageio import (
    decode_image,
    normalise_to_uint8,
    read_image,
    read_mask,
    write_image,
    write_mask,
)


def test_grey_png_reads_unchanged(tmp_path: Path) -> None:
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image, meta = read_image(tmp_path / "a.png")
    assert np.array_equal(image, pixels)
    assert meta["bit_depth"] == 8


def test_rgba_with_equal_channels_becomes_grey(tmp_path: Path) -> None:
    grey = np.random.default_rng(0).integers(0, 255, (8, 9), dtype=np.uint8)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image, meta = read_image(tmp_path / "a.png")
    assert image.shape == (8, 9)
    assert np.array_equal(image, grey)
    assert meta["channels"] == "equal-rgb"


def test_colour_image_stays_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(tmp_path / "c.png")
    image, meta = read_image(tmp_path / "c.png")
    assert image.shape == (4, 4, 3)
    assert meta["channels"] == "rgb"


def test_twelve_bit_tiff_in_sixteen_bit_container_is_scaled(tmp_path: Path) -> None:
    raw = np.array([[0, 2048, 4095]], dtype=np.uint16)
    tifffile.imwrite(tmp_path / "raw.tif", raw)
    image, meta = read_image(tmp_path / "raw.tif")
    assert image.tolist() == [[0, 128, 255]]
    assert meta["bit_depth"] == 12


def test_full_sixteen_bit_data_uses_the_whole_range(tmp_path: Path) -> None:
    raw = np.array([[0, 65535]], dtype=np.uint16)
    Image.fromarray(raw).save(tmp_path / "raw16.png")
    image, meta = read_image(tmp_path / "raw16.png")
    assert image.tolist() == [[0, 255]]
    assert meta["bit_depth"] == 16


def test_float_and_bool_arrays_normalise() -> None:
    image, _ = normalise_to_uint8(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert image.tolist() == [[0, 128, 255]]
    image, _ = normalise_to_uint8(np.array([[True, False]]))
    assert image.tolist() == [[255, 0]]
    with pytest.raises(ImageReadError, match="channels"):
        normalise_to_uint8(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ImageReadError, match="pixel type"):
        normalise_to_uint8(np.zeros((2, 2), np.complex64))


def test_truncated_png_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageReadError, match="cut.png"):
        read_image(path)


def test_unsupported_suffix_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImageReadError, match="unsupported format .txt"):
        read_image(tmp_path / "notes.txt")
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "absent.png")
    (tmp_path / "bad.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(ImageReadError, match="bad.tif"):
        read_image(tmp_path / "bad.tif")


def test_pixel_limit_is_enforced_with_a_clear_message(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(ImageTooLargeError, match="VISIONKIT_MAX_PIXELS"):
        read_image(tmp_path / "big.png", max_pixels=5000)


def test_decode_bytes_png_tiff_and_garbage(tmp_path: Path) -> None:
    pixels = np.full((5, 6), 77, np.uint8)
    write_image(tmp_path / "p.png", pixels)
    write_image(tmp_path / "t.tif", pixels)
    assert np.array_equal(decode_image((tmp_path / "p.png").read_bytes())[0], pixels)
    assert np.array_equal(decode_image((tmp_path / "t.tif").read_bytes())[0], pixels)
    with pytest.raises(ImageReadError, match="upload"):
        decode_image(b"<html>nope</html>", source="upload")
    with pytest.raises(ImageReadError, match="TIFF"):
        decode_image(b"II*\x00broken", source="upload")
    with pytest.raises(ImageTooLargeError):
        decode_image((tmp_path / "p.png").read_bytes(), max_pixels=10)


def test_masks_accept_zero_one_and_zero_255(tmp_path: Path) -> None:
    mask = np.zeros((4, 4), np.uint8)
    mask[1, 1] = 1
    write_image(tmp_path / "m01.tif", mask)
    write_image(tmp_path / "m255.png", mask * 255)
    assert np.array_equal(read_mask(tmp_path / "m01.tif"), mask)
    assert np.array_equal(read_mask(tmp_path / "m255.png"), mask)
    mask[2, 2] = 7
    write_image(tmp_path / "bad.tif", mask)
    with pytest.raises(ImageReadError, match="found 0, 1, 7"):
        read_mask(tmp_path / "bad.tif")
    with pytest.raises(ImageReadError, match="no such mask"):
        read_mask(tmp_path / "none.tif")


@pytest.mark.parametrize("dtype", [np.uint8, bool, np.int32, np.float32])
def test_a_mask_written_as_1_bit_reads_back_as_0_and_255(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(3)
    bits = rng.random((37, 53)) < 0.3  # odd sizes: the last byte of a row is partly padding
    values = {np.uint8: np.where(bits, 254, 0), bool: bits}.get(dtype, bits * 7)
    mask = np.asarray(values).astype(dtype)

    path = write_mask(tmp_path / "m.png", mask)

    with Image.open(path) as png:
        assert png.mode == "1"
    pixels, _ = read_image(path)
    assert pixels.dtype == np.uint8
    assert np.array_equal(pixels, np.where(bits, 255, 0))
    assert np.array_equal(read_mask(path), bits.astype(np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"], "no temporary file is left"


def test_write_image_with_a_level_writes_what_pillow_reads(tmp_path: Path) -> None:
    frame = np.tile(np.arange(300, dtype=np.uint16) % 256, (40, 1)).astype(np.uint8)
    path = write_image(tmp_path / "frame.png", frame, compress_level=1)
    assert np.array_equal(read_image(path)[0], frame)
    wide = write_image(tmp_path / "wide.png", frame.astype(np.uint16) * 200, compress_level=1)
    assert read_image(wide)[1]["bit_depth"] == 16, "16-bit goes through Pillow as before"


def test_write_image_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.png"
    with pytest.raises(TypeError):
        write_image(target, np.zeros((2, 2), dtype=object))
    assert list((tmp_path / "sub").iterdir()) == []


def test_lzw_and_deflate_compressed_tiffs_are_read(tmp_path: Path) -> None:
    # Imagers and image tools write LZW TIFFs by default; tifffile needs imagecodecs for them.
    plate = (np.arange(64 * 80, dtype=np.uint16).reshape(64, 80) % 4096).astype(np.uint16)
    for compression in ("lzw", "zlib"):
        path = tmp_path / f"plate-{compression}.tif"
        tifffile.imwrite(path, plate, compression=compression)
        image, _ = read_image(path)
        assert image.shape == (64, 80)
        decoded, _ = decode_image(path.read_bytes(), source=path.name)
        assert np.array_equal(decoded, image)
