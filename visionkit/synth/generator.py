"""Generate one synthetic Hades plate from a seed.

A plate depends only on ``(seed, index, config)``: its random stream is
seeded from both numbers, so plate 7 of a data set is the same whether it was
made alone, in order, or by another worker process.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from visionkit.synth.artifacts import place_droplets
from visionkit.synth.config import SynthConfig
from visionkit.synth.dish import Dish, make_dish
from visionkit.synth.families import Variation, draw_variation
from visionkit.synth.look import draw_look
from visionkit.synth.naming import plate_name
from visionkit.synth.plate import SynthPlate
from visionkit.synth.render import render_plate
from visionkit.synth.seedling import Seedling, grow_plants

__all__ = ["generate_plate", "plate_rng"]

logger = logging.getLogger(__name__)


def plate_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of plate ``index`` of the data set made with ``seed``."""
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def _point(xy: np.ndarray) -> dict[str, float]:
    return {"x": round(float(xy[0]), 2), "y": round(float(xy[1]), 2)}


def _plant_record(s: Seedling, ppm: float) -> dict[str, Any]:
    if not s.present or s.primary is None:
        return {"plant": s.plant, "present": False, "reason": s.reason or "missing plant"}
    root = s.primary
    length = root.length
    return {
        "plant": s.plant,
        "present": True,
        "start": _point(root.points[0]),
        "tip": _point(root.tip),
        "primary_root_length_px": round(length, 2),
        "primary_root_length_mm": round(length / ppm, 3),
        "primary_root_path": [[round(float(x), 2), round(float(y), 2)] for x, y in root.points],
        "lateral_roots": len(s.laterals),
        "hard_cases": list(s.hard_cases),
    }


def _landmarks(
    name: str,
    seed: int,
    index: int,
    config: SynthConfig,
    dish: Dish,
    seedlings: list[Seedling],
    variation: Variation | None,
) -> dict[str, Any]:
    from visionkit import __version__

    record: dict[str, Any] = {
        "image": name,
        "width": config.width,
        "height": config.height,
        "generator": f"visionkit.synth {__version__}",
        "seed": seed,
        "index": index,
        "dish": {
            "bbox": list(dish.bbox(config.width, config.height)),
            "mm_per_px": round(1.0 / dish.px_per_mm, 6),
            "rotation_deg": round(float(np.degrees(dish.angle)), 3),
        },
        "plants": [_plant_record(s, dish.px_per_mm) for s in seedlings],
    }
    if variation is not None:
        record["families"] = variation.drawn
    return record


def generate_plate(seed: int, config: SynthConfig | None = None, index: int = 0) -> SynthPlate:
    """Draw plate ``index`` of the data set made with ``seed``.

    Args:
        seed: the data set's seed (>= 0).
        config: what plates may look like; default :class:`SynthConfig()`
            (full 4202 x 3006 Hades frames).
        index: the plate's number in the data set (>= 0); names and
            randomness both derive from it.

    Returns:
        The image, its four masks, the ground-truth landmarks and a Hades name.
    """
    config = config or SynthConfig()
    rng = plate_rng(seed, index)
    dish = make_dish(rng, config)
    variation = draw_variation(seed, index, config.families, config.p_family, config.n_plants)
    look = draw_look(
        rng, config, dish.px_per_mm, wide=variation is not None and variation.has("wide")
    )
    seedlings = grow_plants(rng, config, dish, look, variation)
    droplets = place_droplets(rng, dish, look, seedlings)
    rendered = render_plate(rng, dish, look, seedlings, droplets, config.width, config.height)
    name = plate_name(seed, index)
    logger.debug(
        "plate %d of seed %d: %d droplets, age %.1f mm", index, seed, len(droplets), look.age
    )
    return SynthPlate(
        image=rendered.image,
        masks=rendered.masks,
        landmarks=_landmarks(name, seed, index, config, dish, seedlings, variation),
        name=name,
    )
