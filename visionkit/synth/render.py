"""Turn a plate's geometry into pixels and the masks that describe them.

The image model is multiplicative, like light through a dish:
``image = background * (1 - darkness) * (1 + shade)``, then optical blur,
then sensor noise, then 8-bit quantisation. Plants are drawn with OpenCV's
anti-aliased lines into a ``uint8`` darkness layer, one plant at a time in
its own bounding box; their masks are drawn from the same points with the
geometric width, so a mask pixel is a pixel the root visibly darkens.
Root hairs are drawn faintly and never labelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visionkit.synth.artifacts import Droplets, draw_debris, stamp_droplets
from visionkit.synth.background import render_background
from visionkit.synth.dish import Dish
from visionkit.synth.look import PlateLook
from visionkit.synth.seedling import Ellipse, Polyline, Seedling

__all__ = ["MASK_NAMES", "Rendered", "render_plate"]

#: Mask classes, in the order of the Hades file-name convention.
MASK_NAMES = ("root", "shoot", "seed", "occluded_root")

#: Fixed-point bits for sub-pixel OpenCV drawing.
_SHIFT = 4
_ONE = 1 << _SHIFT

#: Fraction of a root's darkness left visible under a large droplet.
_UNDER_DROPLET = 0.12


@dataclass
class Rendered:
    """A rendered plate: the image and its 0/1 masks, all ``uint8`` of one size."""

    image: np.ndarray
    masks: dict[str, np.ndarray]
    hidden: np.ndarray


def _fixed(points: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    shifted = points - np.array(origin, dtype=np.float64)
    return np.round(shifted * _ONE).astype(np.int32)


def _level(grey: float, agar: float) -> int:
    return min(255, max(0, round(255.0 * grey / agar)))


def _draw_line(
    dark: np.ndarray,
    mask: np.ndarray | None,
    line: Polyline,
    origin: tuple[int, int],
    agar: float,
) -> None:
    """A root or stem, segment by segment so width and darkness can change along it."""
    import cv2

    pts = _fixed(line.points, origin)
    segments = [
        ((int(pts[k, 0]), int(pts[k, 1])), (int(pts[k + 1, 0]), int(pts[k + 1, 1])), k)
        for k in range(len(pts) - 1)
    ]
    # A root is a cylinder: a soft outer sheath, then (in a second pass, so
    # no sheath paints over it) a darker core.
    for p, q, k in segments:
        thick = max(1, round(float(line.widths[k])))
        cv2.line(
            dark, p, q, _level(float(line.contrast[k]) * 0.5, agar), thick, cv2.LINE_AA, _SHIFT
        )
        if mask is not None:
            cv2.line(mask, p, q, 1, thick, cv2.LINE_8, _SHIFT)
    for p, q, k in segments:
        core = max(1, round(float(line.widths[k]) * 0.5))
        cv2.line(dark, p, q, _level(float(line.contrast[k]), agar), core, cv2.LINE_AA, _SHIFT)


def _draw_ellipse(
    dark: np.ndarray, mask: np.ndarray, shape: Ellipse, origin: tuple[int, int]
) -> None:
    import cv2

    centre = (
        round((shape.centre[0] - origin[0]) * _ONE),
        round((shape.centre[1] - origin[1]) * _ONE),
    )
    axes = (max(1, round(shape.axes[0] * _ONE)), max(1, round(shape.axes[1] * _ONE)))
    value = int(np.clip(round(255 * shape.darkness), 0, 255))
    cv2.ellipse(dark, centre, axes, shape.angle, 0, 360, value, -1, cv2.LINE_AA, _SHIFT)
    cv2.ellipse(mask, centre, axes, shape.angle, 0, 360, 1, -1, cv2.LINE_8, _SHIFT)


def _seedling_box(
    s: Seedling, width: int, height: int, margin: float
) -> tuple[int, int, int, int] | None:
    pts: list[np.ndarray] = []
    for line in [s.hypocotyl, s.primary, *s.laterals, *s.petioles]:
        if line is not None:
            pts.append(line.points)
    for e in [*s.leaves, *([s.seed] if s.seed is not None else [])]:
        rad = max(e.axes)
        pts.append(
            np.array(
                [[e.centre[0] - rad, e.centre[1] - rad], [e.centre[0] + rad, e.centre[1] + rad]]
            )
        )
    if len(s.hairs):
        pts.append(s.hairs[:, 0:2].astype(np.float64))
        pts.append(s.hairs[:, 2:4].astype(np.float64))
    if not pts:
        return None
    allp = np.concatenate(pts)
    x0 = max(0, math.floor(allp[:, 0].min() - margin))
    y0 = max(0, math.floor(allp[:, 1].min() - margin))
    x1 = min(width, math.ceil(allp[:, 0].max() + margin))
    y1 = min(height, math.ceil(allp[:, 1].max() + margin))
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def _draw_seedling(
    s: Seedling, dark: np.ndarray, masks: dict[str, np.ndarray], agar: float
) -> tuple[int, int, int, int] | None:
    """Draw one plant into its own box, then merge with the darkest-wins rule."""
    import cv2

    height, width = dark.shape
    box = _seedling_box(s, width, height, margin=8.0)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    origin = (x0, y0)
    local = np.zeros((y1 - y0, x1 - x0), np.uint8)
    root = np.zeros_like(local)
    shoot = np.zeros_like(local)
    seed = np.zeros_like(local)
    for x_a, y_a, x_b, y_b, grey in s.hairs:
        p = (round((x_a - x0) * _ONE), round((y_a - y0) * _ONE))
        q = (round((x_b - x0) * _ONE), round((y_b - y0) * _ONE))
        cv2.line(local, p, q, _level(float(grey), agar), 1, cv2.LINE_AA, _SHIFT)
    roots = [*s.laterals, *([s.primary] if s.primary is not None else [])]
    soft = max((line.soft for line in roots), default=0.0)
    blurred = np.zeros_like(local) if soft > 0 else local
    for line in roots:
        _draw_line(blurred if line.soft > 0 else local, root, line, origin, agar)
    if soft > 0:
        # Out of focus in the agar: soft edges, the mask keeps the geometry.
        cv2.GaussianBlur(blurred, (0, 0), soft, dst=blurred)
        np.maximum(local, blurred, out=local)
    if s.hypocotyl is not None:
        _draw_line(local, shoot, s.hypocotyl, origin, agar)
    for petiole in s.petioles:
        _draw_line(local, shoot, petiole, origin, agar)
    for leaf in s.leaves:
        _draw_ellipse(local, shoot, leaf, origin)
    if s.seed is not None:
        _draw_ellipse(local, seed, s.seed, origin)
    np.maximum(dark[y0:y1, x0:x1], local, out=dark[y0:y1, x0:x1])
    for name, layer in (("root", root), ("shoot", shoot), ("seed", seed)):
        np.maximum(masks[name][y0:y1, x0:x1], layer, out=masks[name][y0:y1, x0:x1])
    return box


def _gaussian_lut() -> np.ndarray:
    """256 equally likely standard-normal values: noise from random bytes via a lookup."""
    from scipy.special import ndtri

    return ndtri((np.arange(256, dtype=np.float64) + 0.5) / 256.0).astype(np.float32)


def _hide_under_droplets(
    seedlings: list[Seedling],
    boxes: list[tuple[int, int, int, int] | None],
    dark: np.ndarray,
    masks: dict[str, np.ndarray],
    hidden: np.ndarray,
) -> None:
    """Fade roots under large droplets and move their mask to ``occluded_root``."""
    for s, box in zip(seedlings, boxes, strict=True):
        if box is None:
            continue
        x0, y0, x1, y1 = box
        under = hidden[y0:y1, x0:x1].astype(bool)
        if under.any():
            root = masks["root"][y0:y1, x0:x1]
            masks["occluded_root"][y0:y1, x0:x1] |= root & under
            root[under] = 0
            region = dark[y0:y1, x0:x1]
            region[under] = (region[under] * _UNDER_DROPLET).astype(np.uint8)
        if s.primary is not None:
            pts = np.round(s.primary.points).astype(int)
            xs = np.clip(pts[:, 0], 0, hidden.shape[1] - 1)
            ys = np.clip(pts[:, 1], 0, hidden.shape[0] - 1)
            covered = bool(hidden[ys, xs].any())
            if covered:
                s.add_case("under_droplet")
            elif "under_droplet" in s.hard_cases:
                s.hard_cases.remove("under_droplet")


def render_plate(
    rng: np.random.Generator,
    dish: Dish,
    look: PlateLook,
    seedlings: list[Seedling],
    droplets: Droplets,
    width: int,
    height: int,
) -> Rendered:
    """Render the plate image (``uint8``) and its masks."""
    import cv2

    background = render_background(dish, look, rng, width, height)
    dark = np.zeros((height, width), np.uint8)
    shade = np.zeros((height, width), np.float32)
    hidden = np.zeros((height, width), np.uint8)
    masks = {name: np.zeros((height, width), np.uint8) for name in MASK_NAMES}

    draw_debris(rng, dish, look, dark, shade)
    boxes = [_draw_seedling(s, dark, masks, look.agar) for s in seedlings]
    stamp_droplets(rng, shade, hidden, droplets, look, dish.px_per_mm)
    _hide_under_droplets(seedlings, boxes, dark, masks, hidden)

    transmit = cv2.LUT(dark, (1.0 - np.arange(256, dtype=np.float32) / 255.0).reshape(1, 256))
    shade += 1.0
    image = np.asarray(cv2.multiply(cv2.multiply(background, transmit), shade), np.float32)
    if look.blur_sigma > 0.2:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), look.blur_sigma), np.float32)
    # Sensor noise: one Gaussian draw per pixel from random bytes via a lookup
    # table (several times faster than drawing floats).
    lut = (_gaussian_lut() * look.noise_sigma).reshape(1, 256)
    raw = np.frombuffer(rng.bytes(width * height), np.uint8).reshape(height, width)
    image += np.asarray(cv2.LUT(raw, lut), np.float32)
    out = cv2.convertScaleAbs(image)  # rounds and saturates to 0..255
    return Rendered(image=out, masks=masks, hidden=hidden)
