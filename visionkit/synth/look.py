"""One plate's look: the values drawn from a :class:`SynthConfig`'s ranges.

Drawing them once per plate, in one place, keeps a plate self-consistent
(one agar colour, one light direction) while plates differ from each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from visionkit.synth.config import Range, SynthConfig
from visionkit.synth.families import WIDE_RANGES

__all__ = ["PlateLook", "draw_look"]


@dataclass(frozen=True)
class PlateLook:
    """Per-plate appearance parameters (grey levels are at the agar level)."""

    agar: float
    surround: float
    noise_sigma: float
    blur_sigma: float
    droplet_density: float
    droplet_band_mm: float
    light_angle: float
    age: float
    root_contrast_top: float
    root_contrast_tip: float
    shoot_darkness: float
    root_hair_density: float


def _uniform(rng: np.random.Generator, span: Range) -> float:
    return float(rng.uniform(span[0], span[1]))


def draw_look(
    rng: np.random.Generator, config: SynthConfig, px_per_mm: float, *, wide: bool = False
) -> PlateLook:
    """Draw one plate's look from ``config``'s ranges.

    ``age`` is the plate's typical primary-root length in mm, drawn
    log-uniformly so young plates (roots of a few mm) are as common as old ones.
    ``wide`` (the ``wide`` variation family) draws the appearance from
    :data:`~visionkit.synth.families.WIDE_RANGES` instead, ranges wider than
    any one plate's; the same random numbers are used, so the plate keeps its
    geometry.
    """
    if wide:
        config = replace(config, **WIDE_RANGES)  # type: ignore[arg-type]
    low, high = config.root_length_mm
    age = math.exp(rng.uniform(math.log(max(low, 0.1)), math.log(max(high, low, 0.1))))
    return PlateLook(
        agar=_uniform(rng, config.agar_grey),
        surround=float(rng.uniform(18.0, 60.0)),
        noise_sigma=_uniform(rng, config.noise_sigma),
        blur_sigma=_uniform(rng, config.blur_sigma_mm) * px_per_mm,
        droplet_density=_uniform(rng, config.droplet_density),
        droplet_band_mm=float(rng.uniform(5.0, 16.0)),
        # Direction (image angle) of each droplet's shadowed side: mostly down.
        light_angle=float(rng.normal(math.radians(105.0), math.radians(25.0))),
        age=age,
        root_contrast_top=_uniform(rng, config.root_contrast_top),
        root_contrast_tip=_uniform(rng, config.root_contrast_tip),
        shoot_darkness=float(rng.uniform(0.5, 0.75)),
        root_hair_density=_uniform(rng, config.root_hair_density),
    )
