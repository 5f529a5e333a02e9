"""Read and write plate images and masks, normalised to 8-bit.

Hades frames arrive as 8-bit grayscale PNG, as 8-bit RGBA with R=G=B, or as
the camera's 12-bit raw data in a 16-bit TIFF container. :func:`read_image`
turns all of them into one ``uint8`` array so nothing downstream cares.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from visionkit.exceptions import ImageError, ImageReadError, ImageTooLargeError
from visionkit.png import encode_mask_png, encode_png, plain

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "check_image",
    "decode_image",
    "encode_mask_png",  # from visionkit.png, where the encoders live
    "encode_png",
    "normalise_to_uint8",
    "read_image",
    "read_mask",
    "to_grey",
    "write_image",
]

logger = logging.getLogger(__name__)

#: File suffixes visionkit reads as images (lower case).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})

#: Default pixel-count limit: a Hades frame is 12.6 Mpx; 100 Mpx leaves room
#: for stitched scans while refusing decompression bombs.
MAX_PIXELS = int(os.environ.get("VISIONKIT_MAX_PIXELS", 100_000_000))


def check_image(image: Any, *, source: str = "image") -> np.ndarray:
    """The image if it is a non-empty ``uint8`` ``(H, W)`` or ``(H, W, 1|3|4)`` array.

    An ``(H, W, 1)`` array comes back as ``(H, W)``. ``source`` (the frame, file
    or caller) starts the message, which says how to get a valid array.

    Raises:
        ImageError: the array is not one visionkit can segment.
    """
    shape = getattr(image, "shape", None)
    if (
        not isinstance(image, np.ndarray)
        or image.ndim not in (2, 3)
        or image.size == 0
        or (image.ndim == 3 and image.shape[2] not in (1, 3, 4))
    ):
        found = shape if shape is not None else type(image).__name__
        raise ImageError(
            f"{source}: expected a non-empty (H, W) grey or (H, W, 3|4) colour array, got {found}"
        )
    if image.dtype != np.uint8:
        raise ImageError(
            f"{source}: expected uint8 pixels, got {image.dtype}; read files with "
            f"visionkit.imageio.read_image, which brings 12/16-bit and float images to 8 bits"
        )
    return image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image


def to_grey(image: np.ndarray) -> np.ndarray:
    """One grey channel with OpenCV's luminance weights (the array itself when already grey).

    Dish detection, the out-of-distribution score and the network's grey input
    all see this same image: RGB and RGBA go through ``cv2.cvtColor``, and an
    ``(H, W, 1)`` array loses its channel axis.
    """
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 2:
        return image
    import cv2

    code = cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(image), code))


def normalise_to_uint8(
    array: np.ndarray, *, source: str = "image"
) -> tuple[np.ndarray, dict[str, Any]]:
    """Bring any supported pixel layout to ``uint8`` grayscale or RGB.

    - 16-bit data whose maximum fits 12 bits (the Hades raw TIFF) is scaled by
      255/4095; other 16-bit data by 255/65535.
    - RGBA or RGB whose channels are equal becomes grayscale; alpha is dropped.
    - Float images in [0, 1] are scaled to [0, 255].

    Returns:
        The array and a metadata dict with ``bit_depth`` and ``channels``.
    """
    meta: dict[str, Any] = {"dtype": str(array.dtype)}
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3:
        if array.shape[2] not in (3, 4):
            raise ImageReadError(f"{source}: {array.shape[2]} channels; expected 1, 3 or 4")
        colour = array[:, :, :3]
        if np.array_equal(colour[:, :, 0], colour[:, :, 1]) and np.array_equal(
            colour[:, :, 0], colour[:, :, 2]
        ):
            array = colour[:, :, 0]
            meta["channels"] = "equal-rgb"
        else:
            array = colour
            meta["channels"] = "rgb"
    elif array.ndim != 2:
        raise ImageReadError(f"{source}: unsupported array shape {array.shape}")
    if array.dtype == np.uint8:
        meta["bit_depth"] = 8
        return np.ascontiguousarray(array), meta
    if array.dtype == np.uint16:
        peak = int(array.max()) if array.size else 0
        full = 4095 if peak <= 4095 else 65535
        meta["bit_depth"] = 12 if full == 4095 else 16
        scaled = (array.astype(np.float32) * (255.0 / full)).round()
        return np.clip(scaled, 0, 255).astype(np.uint8), meta
    if array.dtype == bool:
        meta["bit_depth"] = 1
        return (array.astype(np.uint8) * 255), meta
    if np.issubdtype(array.dtype, np.floating):
        meta["bit_depth"] = 32
        finite = np.nan_to_num(array.astype(np.float32))
        top = 1.0 if finite.size == 0 or finite.max() <= 1.0 else 255.0
        return np.clip(finite * (255.0 / top), 0, 255).round().astype(np.uint8), meta
    raise ImageReadError(f"{source}: unsupported pixel type {array.dtype}")


def _check_size(shape: tuple[int, ...], source: str, max_pixels: int) -> None:
    pixels = int(shape[0]) * int(shape[1])
    if pixels > max_pixels:
        raise ImageTooLargeError(
            f"{source}: {shape[1]} x {shape[0]} = {pixels:,} pixels exceeds the limit of "
            f"{max_pixels:,}; downscale it or raise VISIONKIT_MAX_PIXELS"
        )


def _require_pixels(array: np.ndarray, source: str) -> np.ndarray:
    """tifffile returns an empty array for some broken files instead of raising."""
    if array.ndim < 2 or array.size == 0:
        raise ValueError(f"{source} holds no pixel data")
    return array


def _read_raw(path: Path, max_pixels: int) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix in {".tif", ".tiff"}:
        import tifffile

        try:
            return _require_pixels(np.asarray(tifffile.imread(path)), str(path))
        except Exception as exc:
            raise ImageReadError(
                f"{path}: not a readable TIFF ({exc}); re-export it or check the transfer"
            ) from exc
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return _pil_pixels(img, str(path), max_pixels)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(
            f"{path}: not a readable image ({exc}); the file may be truncated or corrupt"
        ) from exc


def _pil_pixels(img: Any, source: str, max_pixels: int) -> np.ndarray:
    """Decode an opened PIL image, checking its header size before decoding."""
    _check_size((img.height, img.width), source, max_pixels)
    img.load()
    if img.mode.startswith("I;16"):
        return np.asarray(img, dtype=np.uint16)
    if img.mode == "1":
        # A 1-bit file (the masks visionkit writes) decodes as 0/255 like every
        # other binary image, not as Pillow's booleans.
        img = img.convert("L")
    elif img.mode == "P":
        img = img.convert("RGBA")
    elif img.mode in {"CMYK", "YCbCr", "LAB", "HSV"}:
        img = img.convert("RGB")
    return np.asarray(img)


def read_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an image file as ``uint8`` (grayscale when the channels agree).

    Args:
        path: a PNG, JPEG, TIFF or BMP file.
        max_pixels: refuse larger images (default :data:`MAX_PIXELS`).

    Returns:
        ``(array, metadata)``; metadata has ``bit_depth``, ``dtype`` and, for
        colour input, ``channels``.

    Raises:
        ImageReadError: missing, unsupported, corrupt or truncated file.
        ImageTooLargeError: more pixels than ``max_pixels``.
    """
    file = Path(path)
    if not file.is_file():
        raise ImageReadError(f"{file}: no such file")
    if file.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageReadError(
            f"{file}: unsupported format {file.suffix or '(no suffix)'}; "
            f"use one of {', '.join(sorted(IMAGE_SUFFIXES))}"
        )
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # our own limit below gives a clearer message
    raw = _read_raw(file, limit)
    _check_size(raw.shape, str(file), limit)
    return normalise_to_uint8(raw, source=str(file))


def decode_image(
    data: bytes, *, source: str = "image", max_pixels: int | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Decode image bytes (e.g. an HTTP body or an upload) like :func:`read_image`.

    Raises:
        ImageReadError: the bytes are not a supported image.
        ImageTooLargeError: more pixels than ``max_pixels``.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        import tifffile

        try:
            raw = _require_pixels(np.asarray(tifffile.imread(io.BytesIO(data))), source)
        except Exception as exc:
            raise ImageReadError(f"{source}: not a readable TIFF ({exc})") from exc
    else:
        try:
            with Image.open(io.BytesIO(data)) as img:
                raw = _pil_pixels(img, source, limit)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageReadError(
                f"{source}: not a readable image ({exc}); expected PNG, JPEG, TIFF or BMP"
            ) from exc
    _check_size(raw.shape, source, limit)
    return normalise_to_uint8(raw, source=source)


def read_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a binary mask file (values 0/1 or 0/255) as a ``uint8`` 0/1 array.

    Raises:
        ImageReadError: the file cannot be read, or holds other values.
    """
    file = Path(path)
    if not file.is_file():
        raise ImageReadError(f"{file}: no such mask file")
    raw = _read_raw(file, MAX_PIXELS)
    if raw.ndim == 3:
        raw = raw[:, :, 0]
    values = np.unique(raw)
    if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}):
        shown = ", ".join(str(v) for v in values[:8])
        raise ImageReadError(f"{file}: mask values must be 0/1 or 0/255, found {shown}")
    return (raw > 0).astype(np.uint8)


def write_image(
    path: str | os.PathLike[str], array: np.ndarray, *, compress_level: int | None = None
) -> Path:
    """Write ``array`` as PNG or TIFF (by suffix), creating parent folders.

    Writes to a temporary file first and renames it, so an interrupted write
    (full disk, Ctrl-C) never leaves a truncated image behind.

    Args:
        path: the file to write; ``.tif``/``.tiff`` give zlib TIFF, else by suffix.
        array: ``uint8`` (or ``uint16``) pixels.
        compress_level: PNG deflate level 0-9 (Pillow's default, 6, when ``None``);
            1 is several times faster for large noisy frames. With a level,
            8-bit grey, RGB and RGBA go through :func:`encode_png`.
    """
    file = Path(path)

    def write(tmp: Path) -> None:
        if file.suffix.lower() in {".tif", ".tiff"}:
            import tifffile

            tifffile.imwrite(tmp, array, compression="zlib")
        elif _pil_format(file.suffix) == "PNG" and compress_level is not None and plain(array):
            tmp.write_bytes(encode_png(array, compress_level))
        else:
            from PIL import Image

            options = {} if compress_level is None else {"compress_level": compress_level}
            Image.fromarray(array).save(tmp, format=_pil_format(file.suffix), **options)

    return _replace_atomically(file, write)


def write_mask(path: str | os.PathLike[str], mask: np.ndarray) -> Path:
    """Write ``mask`` as a 1-bit PNG (:func:`encode_mask_png`), atomically.

    Like :func:`write_image`, the bytes go to a temporary file that is renamed
    into place, so an interrupted write leaves no truncated mask behind.
    """
    data = encode_mask_png(mask)
    return _replace_atomically(Path(path), lambda tmp: tmp.write_bytes(data))


def _replace_atomically(file: Path, write: Callable[[Path], object]) -> Path:
    """Have ``write`` fill a temporary file beside ``file``, then rename it into place."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.part")
    try:
        write(tmp)
        os.replace(tmp, file)
    finally:
        if tmp.exists():
            tmp.unlink()
    return file


def _pil_format(suffix: str) -> str:
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}.get(suffix.lower(), "PNG")
