"""The empty plate: dark surround, dish wall, agar with slow light falloff.

Everything here varies slowly, so it is computed on a grid a quarter of the
frame's size and upsampled once; the wall stays sharp enough (about one
pixel of softening per grid step) because the real wall is out of focus too.
"""

from __future__ import annotations

import numpy as np

from visionkit.synth.dish import Dish
from visionkit.synth.look import PlateLook

__all__ = ["render_background"]

#: Grid step (frame pixels) of the low-resolution background.
_STEP = 4


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Zero-mean, unit-ish smooth noise: a coarse random grid, cubic-upsampled."""
    import cv2

    gh = max(2, round(cells * shape[0] / max(shape)))
    gw = max(2, round(cells * shape[1] / max(shape)))
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC))


def render_background(
    dish: Dish, look: PlateLook, rng: np.random.Generator, width: int, height: int
) -> np.ndarray:
    """The plate without seedlings or artefacts, ``float32`` grey levels, ``(height, width)``."""
    import cv2

    gw, gh = -(-width // _STEP), -(-height // _STEP)
    xs = (np.arange(gw, dtype=np.float32) + 0.5) * _STEP - 0.5
    ys = (np.arange(gh, dtype=np.float32) + 0.5) * _STEP - 0.5
    gx, gy = np.meshgrid(xs, ys)
    sdf = dish.signed_distance(gx, gy).astype(np.float32)
    ppm = dish.px_per_mm

    # Agar: a tilt of a few per cent, vignetting towards the dish edge, blotches.
    u = (gx - dish.cx) / dish.half
    v = (gy - dish.cy) / dish.half
    tilt = rng.normal(0.0, 0.02, size=2)
    vignette = float(rng.uniform(0.03, 0.10))
    blotch = _smooth_noise(rng, gx.shape, int(rng.integers(4, 10))) * float(
        rng.uniform(0.004, 0.015)
    )
    agar = look.agar * (1.0 + tilt[0] * u + tilt[1] * v - vignette * (u * u + v * v) / 2.0 + blotch)
    # A meniscus darkens the agar next to the wall.
    inside = np.maximum(-sdf - dish.wall, 0.0)
    meniscus = float(rng.uniform(0.05, 0.25))
    agar *= 1.0 - meniscus * np.exp(-inside / (float(rng.uniform(0.8, 2.5)) * ppm))

    # Surround: dark, with its own falloff away from the frame centre.
    fx = (gx - width / 2.0) / (width / 2.0)
    fy = (gy - height / 2.0) / (height / 2.0)
    surround = look.surround * (1.0 - 0.25 * (fx * fx + fy * fy) / 2.0)

    # Wall: dark band with a thin bright reflection near its outer edge.
    wall_level = float(rng.uniform(0.18, 0.45)) * look.agar
    t = np.clip(-sdf / dish.wall, 0.0, 1.0)  # 0 at the outer edge, 1 at the agar
    reflection = float(rng.uniform(0.0, 0.35)) * look.agar * np.exp(-(((t - 0.25) / 0.08) ** 2))
    wall = wall_level + reflection

    field = np.where(sdf > 0.0, surround, np.where(t < 1.0, wall, agar))
    # Soften the transitions by about a third of a millimetre.
    soft = max(0.5, 0.35 * ppm / _STEP)
    field = cv2.GaussianBlur(field.astype(np.float32), (0, 0), soft)
    return np.asarray(cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR))
