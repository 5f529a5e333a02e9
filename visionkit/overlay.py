"""A picture of a prediction that a person can check at a glance.

:func:`render_overlay` draws on a copy of the input image (downscaled so its
longer side is at most ``max_side`` pixels; the scale is printed in the
caption and returned):

- the masks tinted: root orange-red, shoot green, seed blue;
- each plant's tip as a yellow ring and its start as a cyan ring, labelled
  with the plant number and the tip's confidence (``"3: 0.88"``);
- a caption bar with the image name, plants and tips found, the image
  confidence, the scale, and the first warning.

Plants whose tip was not found are named in the caption instead of being
drawn anywhere, so the picture never shows a made-up tip.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from visionkit.frame import Frame
from visionkit.prediction import Prediction

__all__ = [
    "MASK_COLOURS",
    "SCREEN_SIDE",
    "SPARSE_SHARE",
    "OverlayWriter",
    "caption_lines",
    "covered_pixels",
    "render_overlay",
    "write_overlay",
]

#: The overlay's longer side by default: a screen's worth (0 keeps the input's size).
SCREEN_SIDE = 2048

#: RGB tint of each mask class.
MASK_COLOURS: dict[str, tuple[int, int, int]] = {
    "root": (255, 80, 40),
    "shoot": (40, 200, 60),
    "seed": (60, 120, 255),
}

_TIP = (255, 230, 0)
_START = (0, 230, 255)
_ALPHA = 0.55


#: Above this share of a mask's pixels set, :func:`covered_pixels` shrinks the
#: whole mask instead of mapping its pixels one by one.
SPARSE_SHARE = 0.02


def _rgb(image: np.ndarray) -> np.ndarray:
    """A new RGB ``uint8`` copy of a grey or colour image."""
    import cv2

    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2RGB))
    return np.array(image[:, :, :3], dtype=np.uint8, order="C")


def covered_pixels(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flat indices of the pixels of a ``size = (width, height)`` picture that ``mask`` touches.

    A picture pixel is covered when any set pixel of ``mask`` overlaps it,
    so a root one input pixel wide stays unbroken in an overlay of half the
    size. A plate's masks cover well under one per cent of the frame, so the
    set pixels are found and mapped (``cv2.findNonZero``), a few milliseconds
    for a full Hades frame; a mask denser than :data:`SPARSE_SHARE` that is
    being shrunk is resized whole with ``INTER_AREA`` in float instead, which
    marks the same pixels.
    """
    import cv2

    width, height = size
    src_h, src_w = mask.shape[:2]
    bits = np.ascontiguousarray(mask if mask.dtype == np.uint8 else (mask > 0).astype(np.uint8))
    if (src_w, src_h) == (width, height):
        return np.flatnonzero(bits)
    count = cv2.countNonZero(bits)
    if count == 0:
        return np.empty(0, np.intp)
    if count > SPARSE_SHARE * bits.size and width <= src_w and height <= src_h:
        # In float, the smallest overlap still shows (uint8 would round it to 0).
        share = cv2.resize((bits > 0).astype(np.float32), size, interpolation=cv2.INTER_AREA)
        return np.flatnonzero(share > 1e-6)
    points = cv2.findNonZero(bits).reshape(-1, 2).astype(np.float64)
    sx, sy = width / src_w, height / src_h
    # Input pixel x spans [x, x + 1), so picture pixels floor(x * s) .. ceil((x + 1) * s) - 1.
    xs = (np.floor(points[:, 0] * sx), np.ceil((points[:, 0] + 1) * sx) - 1)
    ys = (np.floor(points[:, 1] * sy), np.ceil((points[:, 1] + 1) * sy) - 1)
    flat = [
        np.clip(y, 0, height - 1).astype(np.intp) * width + np.clip(x, 0, width - 1).astype(np.intp)
        for y in ys
        for x in xs
    ]
    return np.unique(np.concatenate(flat))


def _tint(canvas: np.ndarray, pixels: np.ndarray, colour: tuple[int, int, int]) -> None:
    """Blend ``colour`` over the flat ``pixels`` of an RGB ``canvas``, in place."""
    if pixels.size == 0:
        return
    flat = canvas.reshape(-1, 3)
    mixed = (1 - _ALPHA) * flat[pixels].astype(np.float32) + _ALPHA * np.asarray(
        colour, dtype=np.float32
    )
    flat[pixels] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def _label(
    canvas: np.ndarray, text: str, org: tuple[int, int], size: float, colour: tuple[int, int, int]
) -> None:
    """Draw ``text`` in ``colour`` with a dark outline, readable on agar and on masks.

    The outline is the same text drawn dark around ``org``: a thicker stroke
    would be wider too (OpenCV's fonts advance by stroke weight), and the
    outline would drift off its letters.
    """
    import cv2

    thickness = max(1, round(size * 2))
    reach = max(1, thickness)
    x, y = org
    for dx, dy in ((-reach, 0), (reach, 0), (0, -reach), (0, reach)):
        cv2.putText(
            canvas,
            text,
            (x + dx, y + dy),
            cv2.FONT_HERSHEY_SIMPLEX,
            size,
            (0, 0, 0),
            thickness,
            cv2.LINE_AA,
        )
    cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, size, colour, thickness, cv2.LINE_AA)


def render_overlay(
    image: np.ndarray, prediction: Prediction, *, max_side: int = SCREEN_SIDE
) -> tuple[np.ndarray, float]:
    """The overlay as an RGB ``uint8`` array, and the scale it was drawn at.

    Args:
        image: the input image the prediction was made on (8-bit grey or colour).
        prediction: its prediction (masks from ``mask_arrays`` when present).
        max_side: downscale so the longer side is at most this (0 = never).

    Returns:
        ``(overlay, scale)``; overlay pixel = input pixel x ``scale``.
    """
    import cv2

    from visionkit.imageio import check_image

    image = check_image(image, source=prediction.image)
    height, width = image.shape[:2]
    scale = 1.0
    if max_side and max(height, width) > max_side:
        scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    canvas = image
    if scale != 1.0:  # shrink first: a grey frame is then made RGB at a quarter of the pixels
        canvas = cv2.resize(np.ascontiguousarray(canvas), size, interpolation=cv2.INTER_AREA)
    out = _rgb(canvas)
    for name, colour in MASK_COLOURS.items():
        mask = prediction.mask_arrays.get(name)
        if mask is None or mask.shape[:2] != (height, width):
            continue
        _tint(out, covered_pixels(mask, size), colour)

    side = max(size)
    radius = max(7, round(side * 0.008))
    text_size = max(0.45, side / 1600.0)
    ring = max(2, radius // 3)
    for plant in prediction.plants:
        if plant.start is not None:
            centre = (round(plant.start.x * scale), round(plant.start.y * scale))
            cv2.circle(out, centre, max(3, radius * 2 // 3), _START, ring, cv2.LINE_AA)
        if plant.tip is not None:
            centre = (round(plant.tip.x * scale), round(plant.tip.y * scale))
            cv2.circle(out, centre, radius + ring, (0, 0, 0), ring + 2, cv2.LINE_AA)
            cv2.circle(out, centre, radius + ring, _TIP, ring, cv2.LINE_AA)
            text = f"{plant.plant}: {plant.tip.confidence:.2f}"
            org = (centre[0] + radius + 2 * ring + 4, centre[1] + radius // 2)
            _label(out, text, org, text_size, _TIP)
    _caption(out, prediction, scale, text_size)
    return out, scale


def _caption(canvas: np.ndarray, prediction: Prediction, scale: float, size: float) -> None:
    lines, size = caption_lines(
        _caption_groups(prediction, scale), width=canvas.shape[1] - 8, size=size
    )
    line_h = _line_height(size)
    bar = min(canvas.shape[0], line_h * len(lines) + 4)
    canvas[:bar] = (canvas[:bar].astype(np.float32) * 0.35).astype(np.uint8)
    for row, line in enumerate(lines):
        _label(canvas, line, (4, line_h * (row + 1) - 4), size, (255, 255, 255))


def _caption_groups(prediction: Prediction, scale: float) -> list[tuple[str, list[str]]]:
    """The caption's lines before wrapping: the summary, plants without a tip, a warning."""
    tips = sum(p.tip is not None for p in prediction.plants)
    missing = [str(p.plant) for p in prediction.plants if p.tip is None]
    image_conf = prediction.confidence.get("image")
    summary = [
        prediction.image,
        f"plants {len(prediction.plants)}, tips {tips}",
        f"image conf {image_conf:.2f}" if image_conf is not None else "",
        f"scale {scale:.3g}",
    ]
    groups = [(" | ", [p for p in summary if p])]
    if missing:
        groups.append((", ", [f"no tip: plant {missing[0]}", *missing[1:]]))
    if prediction.warnings:
        groups.append((" ", f"warning: {prediction.warnings[0][:160]}".split(" ")))
    return groups


def _text_width(text: str, size: float) -> int:
    import cv2

    thickness = max(1, round(size * 2))
    (width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, thickness)
    return int(width) + 2 * thickness  # the outline reaches one stroke beyond each side


def _line_height(size: float) -> int:
    import cv2

    (_, text_h), _ = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, size, 1)
    return int(text_h * 1.8) + 2


def caption_lines(
    groups: list[tuple[str, list[str]]], *, width: int, size: float, min_size: float = 0.35
) -> tuple[list[str], float]:
    """Caption text wrapped to ``width`` pixels, and the font size that makes it fit.

    Each ``(joiner, words)`` group starts a new line; its words (summary
    fields joined by ``" | "``, a warning's words by spaces) wrap onto more
    lines as needed, so a long Hades file name never pushes the scale off the
    picture. A single word wider than the line shrinks the font (down to
    ``min_size``), and one still too wide is cut in the middle with ``...``.
    """
    longest = max((_text_width(w, size) for _, words in groups for w in words), default=0)
    if longest > width:
        size = max(min_size, size * width / longest)
    lines: list[str] = []
    for joiner, words in groups:
        line = ""
        for word in words:
            word = _shorten(word, width, size)
            candidate = f"{line}{joiner}{word}" if line else word
            if line and _text_width(candidate, size) > width:
                lines.append(line)
                candidate = word
            line = candidate
        if line:
            lines.append(line)
    return lines, size


def _shorten(word: str, width: int, size: float) -> str:
    """``word``, or its start and end around ``...`` when it is wider than ``width``."""
    if _text_width(word, size) <= width:
        return word

    def cut(keep: int) -> str:
        return f"{word[: keep // 2]}...{word[len(word) - (keep - keep // 2) :]}"

    keep = len(word)
    while keep > 2 and _text_width(cut(keep), size) > width:
        keep -= 1
    return cut(keep)


def write_overlay(
    path: str | os.PathLike[str],
    image: np.ndarray,
    prediction: Prediction,
    *,
    max_side: int = SCREEN_SIDE,
) -> Path:
    """Render the overlay and write it as PNG (atomically, level 1); returns the path.

    Level 1 goes through :func:`visionkit.png.encode_png` (ISA-L's deflate):
    about 22 ms for a screen-sized overlay, against about 83 ms with zlib.
    """
    from visionkit.imageio import write_image

    overlay, _ = render_overlay(image, prediction, max_side=max_side)
    return write_image(path, overlay, compress_level=1)


class OverlayWriter:
    """Writes ``<out_dir>/<stem>_overlay.png`` for each frame: a pipeline frame output.

    Args:
        out_dir: the folder (created when the first overlay is written).
        max_side: the overlay's longer side in pixels (:data:`SCREEN_SIDE` by
            default; 0 draws it at the input image's size).
    """

    def __init__(self, out_dir: str | os.PathLike[str], *, max_side: int = SCREEN_SIDE) -> None:
        if max_side < 0:
            raise ValueError(f"max_side must be 0 (full size) or positive, got {max_side}")
        self.out_dir = Path(out_dir)
        self.max_side = max_side

    def __call__(self, frame: Frame, prediction: Prediction) -> Path:
        """Write the overlay of ``prediction`` drawn on ``frame``; returns its path."""
        target = self.out_dir / f"{prediction.stem}_overlay.png"
        return write_overlay(target, frame.image, prediction, max_side=self.max_side)
