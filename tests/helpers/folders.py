"""Small Hades-convention folders written to disk: masks, plates and Hades-like frames.

Used by the data tests (through the ``plate_writer`` fixture or directly) and
by the ``visionkit data`` command tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visionkit.data.convention import mask_name
from visionkit.imageio import write_image

PlateWriter = Callable[..., dict[str, np.ndarray]]


def draw_masks(shape: tuple[int, int], seed: int = 0) -> dict[str, np.ndarray]:
    """A seedling-like set of 0/1 masks: a vertical root, a shoot above it, a seed between."""
    height, width = shape
    rng = np.random.default_rng(seed)
    col = int(rng.integers(width // 4, 3 * width // 4))
    top = height // 5
    root = np.zeros(shape, np.uint8)
    root[top : height - height // 6, col : col + 2] = 1
    shoot = np.zeros(shape, np.uint8)
    shoot[max(0, top - 6) : top + 1, max(0, col - 3) : col + 5] = 1
    seed_mask = np.zeros(shape, np.uint8)
    seed_mask[top - 1 : top + 2, col - 1 : col + 3] = 1
    occluded = np.zeros(shape, np.uint8)
    occluded[height - height // 6 : height - height // 8, col : col + 2] = 1
    return {"root": root, "shoot": shoot, "seed": seed_mask, "occluded_root": occluded}


def write_plate(
    folder: Path,
    stem: str,
    *,
    shape: tuple[int, int] = (60, 80),
    classes: Sequence[str] = ("root", "shoot", "seed"),
    suffix: str = ".png",
    mask_suffix: str = ".tif",
    mask_value: int = 1,
    seed: int = 0,
    landmarks: dict[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Write ``stem``'s image and masks of ``classes`` into ``folder``; return the masks."""
    masks = draw_masks(shape, seed)
    image = np.full(shape, 200, np.uint8)
    image[masks["root"] > 0] = 90
    image[masks["shoot"] > 0] = 60
    image[masks["seed"] > 0] = 140
    write_image(folder / f"{stem}{suffix}", image)
    for cls in classes:
        write_image(folder / mask_name(stem, cls, mask_suffix), masks[cls] * np.uint8(mask_value))
    if landmarks is not None:
        (folder / f"{stem}.landmarks.json").write_text(json.dumps(landmarks))
    return {c: masks[c] for c in classes}


def make_frame(
    size: tuple[int, int] = (1050, 752),
    side: int = 675,
    *,
    center: tuple[float, float] | None = None,
    angle: float = 0.0,
    droplets: bool = False,
    plants: bool = False,
    wall: float = 0.015,
    wall_grey: float = 70.0,
    seed: int = 0,
) -> np.ndarray:
    """A Hades-like frame: dark surround, a dark wall, light agar in a rounded square.

    ``side`` is the dish's outer side; the wall takes ``wall`` of it on each
    side. ``angle`` turns the dish clockwise as displayed (x towards +y).
    """
    width, height = size
    rng = np.random.default_rng(seed)
    cx, cy = center if center is not None else (width / 2, height / 2)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    theta = math.radians(angle)
    u = dx * math.cos(theta) + dy * math.sin(theta)
    v = -dx * math.sin(theta) + dy * math.cos(theta)
    half, corner = side / 2, side * 0.05
    qx, qy = np.abs(u) - (half - corner), np.abs(v) - (half - corner)
    dist = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)
    dist -= corner  # signed distance to the dish's outer edge, negative inside
    image = np.full((height, width), 30.0, np.float32)
    image[dist < 0] = wall_grey
    inside = dist < -wall * side
    image[inside] = 200.0 + 8.0 * (v[inside] / side)  # gentle illumination gradient
    if droplets:
        for _ in range(120):
            du = rng.uniform(-half, half)
            dv = -half + rng.uniform(0, 0.12 * side)
            radius = rng.uniform(0.002, 0.012) * side
            blob = (u - du) ** 2 + (v - dv) ** 2 < radius**2
            image[blob & inside] = rng.uniform(140, 185)
            highlight = (u - du + radius / 3) ** 2 + (v - dv - radius / 3) ** 2 < (radius / 4) ** 2
            image[highlight & inside] = 240.0
    if plants:
        for k in range(5):
            pu = -half + (k + 1) * side / 6
            stem = (np.abs(u - pu) < 0.002 * side + 1) & (v > -0.4 * side) & (v < 0.1 * side)
            image[stem & inside] = 70.0
    image += rng.normal(0, 3, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)
