"""Where the dish sits in the frame: a rounded square, a little off-centre and turned.

Seedlings grow in the dish's own frame (``u`` to the right, ``v`` down,
origin at the dish centre, pixels) because gravity pulled along the dish
while they grew; :meth:`Dish.to_image` maps those points into the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visionkit.synth.config import SynthConfig

__all__ = ["Dish", "make_dish"]


@dataclass(frozen=True)
class Dish:
    """One dish's placement in a frame.

    Attributes:
        cx, cy: centre in frame pixels.
        side: outer side length in pixels.
        corner: corner radius in pixels.
        angle: rotation in radians (positive turns ``u`` towards ``y``).
        wall: wall thickness in pixels (the dark rim).
        px_per_mm: this plate's resolution.
    """

    cx: float
    cy: float
    side: float
    corner: float
    angle: float
    wall: float
    px_per_mm: float

    @property
    def half(self) -> float:
        """Half the outer side, pixels."""
        return self.side / 2.0

    @property
    def inner_half(self) -> float:
        """Half the side of the agar inside the wall, pixels."""
        return self.side / 2.0 - self.wall

    def to_image(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map dish-frame points to frame pixels ``(x, y)``."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return self.cx + c * u - s * v, self.cy + s * u + c * v

    def to_dish(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map frame pixels to the dish frame ``(u, v)`` (inverse of :meth:`to_image`)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        dx, dy = x - self.cx, y - self.cy
        return c * dx + s * dy, -s * dx + c * dy

    def signed_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance (pixels) to the outer wall; negative inside the dish."""
        u, v = self.to_dish(x, y)
        inner = self.half - self.corner
        qx = np.abs(u) - inner
        qy = np.abs(v) - inner
        outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
        return outside + np.minimum(np.maximum(qx, qy), 0.0) - self.corner

    def bbox(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Axis-aligned bounding box ``(x0, y0, x1, y1)`` of the dish, clipped to the frame."""
        h = self.half
        corners_u = np.array([-h, h, h, -h])
        corners_v = np.array([-h, -h, h, h])
        xs, ys = self.to_image(corners_u, corners_v)
        # Rounded corners pull the box in a little on a turned dish; the
        # square's corners are a safe (slightly generous) bound.
        x0 = max(0, math.floor(xs.min()))
        y0 = max(0, math.floor(ys.min()))
        x1 = min(width, math.ceil(xs.max()))
        y1 = min(height, math.ceil(ys.max()))
        return x0, y0, x1, y1


def make_dish(rng: np.random.Generator, config: SynthConfig) -> Dish:
    """Draw one dish placement: resolution jitter, offset, rotation, corner radius."""
    ppm = config.px_per_mm * (1.0 + rng.uniform(-1.0, 1.0) * config.px_per_mm_jitter)
    side = config.dish_mm * ppm
    # Keep the turned square inside the frame whatever the offset.
    angle = math.radians(rng.uniform(-1.0, 1.0) * config.dish_rotation_deg)
    reach = side / 2.0 * (abs(math.cos(angle)) + abs(math.sin(angle)))
    room_x = max(0.0, config.width / 2.0 - reach - 2.0)
    room_y = max(0.0, config.height / 2.0 - reach - 2.0)
    offset = config.dish_offset_mm * ppm
    cx = config.width / 2.0 + rng.uniform(-1.0, 1.0) * min(offset, room_x)
    cy = config.height / 2.0 + rng.uniform(-1.0, 1.0) * min(offset, room_y)
    return Dish(
        cx=cx,
        cy=cy,
        side=side,
        corner=rng.uniform(5.0, 12.0) * ppm,
        angle=angle,
        wall=rng.uniform(1.0, 2.0) * ppm,
        px_per_mm=ppm,
    )
