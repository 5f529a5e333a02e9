"""Variation families: named kinds of plate the base generator draws rarely or never.

A model trained on one generator's plates learns that generator's habits.
Plates made by other means show roots the base synthesis lacks: faint,
out-of-focus roots grown into the agar, contrast that fades and comes back
along a root, roots without hairs, neighbours' roots that meet at shallow
angles, laterals longer than what is left of the primary, tiny late
seedlings, and a wider spread of looks than any one plate has. Each of those
is a *family* here, named so that a validation set can hold only a family
that training never saw (``SynthConfig(families=("faint",))`` or
``visionkit synth --family faint``).

Each family in :attr:`SynthConfig.families <visionkit.synth.SynthConfig>`
is applied with probability ``p_family``: per plant for the plant families,
per plate for ``wide`` and ``shallow_crossing``. Family decisions use their
own random stream (seeded from the plate's seed and index), so a config
without families draws exactly the plates it always drew. Every plant a
family changed carries the family's name in its ``hard_cases``, and the
plate's landmarks list the families that were drawn.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FAMILIES", "Variation", "check_families", "draw_variation"]

#: Every family, with what it draws (the help text of ``visionkit synth --family``).
FAMILIES: dict[str, str] = {
    "faint": "faint out-of-focus roots grown into the agar: 15-40 grey levels at the top, "
    "7-12 at the tip, soft edges (blur 0.05-0.15 mm), no hairs",
    "fading": "contrast that fades along a root to a fifth and comes back (1-3 dips of 1-5 mm)",
    "hairless": "roots without root hairs",
    "shallow_crossing": "a seedling sown 6-12 mm from its neighbour, its root slanting "
    "12-30 degrees to cross or touch the neighbour's root",
    "long_lateral": "a lateral root longer than what is left of the primary, ending below its tip",
    "tiny": "a tiny late seedling, a root of 0.4-5 mm (under 100 px at full scale)",
    "wide": "domain randomisation: agar 140-235, noise 1-5, blur 0.01-0.1 mm, root contrast "
    "12-120 at the top and 6-26 at the tip, wider than any one plate",
}

#: Plate-level families: drawn once per plate, not per plant.
PLATE_FAMILIES = frozenset({"wide", "shallow_crossing"})

#: ``wide``'s appearance ranges (``SynthConfig`` field -> range, grey levels or mm).
WIDE_RANGES: dict[str, tuple[float, float]] = {
    "agar_grey": (140.0, 235.0),
    "noise_sigma": (1.0, 5.0),
    "blur_sigma_mm": (0.01, 0.1),
    "root_contrast_top": (12.0, 120.0),
    "root_contrast_tip": (6.0, 26.0),
    "root_hair_density": (0.0, 20.0),
}


def check_families(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a tuple, or a :class:`ValueError` naming the valid families."""
    names = tuple(names)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ValueError(
            f"unknown variation famil{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(map(repr, unknown))}; choose from {', '.join(sorted(FAMILIES))}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"variation families are named twice: {names}")
    return names


@dataclass
class Variation:
    """The families one plate drew, and the random stream the families use.

    Attributes:
        rng: the families' own random stream.
        plate: the plate-level families drawn for this plate.
        plants: per plant (0-based sowing order), the plant families drawn.
    """

    rng: np.random.Generator
    plate: set[str] = field(default_factory=set)
    plants: list[set[str]] = field(default_factory=list)

    def has(self, name: str, plant: int | None = None) -> bool:
        """Whether family ``name`` was drawn for the plate or for plant ``plant``."""
        if name in self.plate:
            return True
        return plant is not None and plant < len(self.plants) and name in self.plants[plant]

    @property
    def drawn(self) -> list[str]:
        """Every family drawn anywhere on the plate, sorted."""
        return sorted(self.plate.union(*self.plants))


def draw_variation(
    seed: int, index: int, families: tuple[str, ...], p_family: float, n_plants: int
) -> Variation | None:
    """Which families plate ``index`` of data set ``seed`` shows; ``None`` without families."""
    if not families:
        return None
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 14]))
    variation = Variation(rng)
    for name in families:
        if name in PLATE_FAMILIES and rng.random() < p_family:
            variation.plate.add(name)
    for _ in range(n_plants):
        mine = {n for n in families if n not in PLATE_FAMILIES and rng.random() < p_family}
        variation.plants.append(mine)
    return variation


def dips(rng: np.random.Generator, n: int, step_mm: float) -> np.ndarray:
    """A factor per root point that falls to 0.15-0.35 in 1-3 dips and comes back to 1."""
    s_mm = np.arange(n) * step_mm
    factor = np.ones(n)
    if n < 4:
        return factor
    for _ in range(int(rng.integers(1, 4))):
        centre = float(rng.uniform(0.15, 1.0)) * s_mm[-1]
        width = float(rng.uniform(0.5, 2.5))
        depth = 1.0 - float(rng.uniform(0.15, 0.35))
        factor *= 1.0 - depth * np.exp(-0.5 * ((s_mm - centre) / width) ** 2)
    return factor


def faint_profile(rng: np.random.Generator, n: int) -> np.ndarray:
    """Darkness along a faint root: 15-40 grey levels at the top falling to 7-12 at the tip."""
    top = float(rng.uniform(15.0, 40.0))
    tip = float(rng.uniform(7.0, 12.0))
    s = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    return tip + (top - tip) * (1.0 - s) ** float(rng.uniform(0.7, 2.0))


def shallow_slope(rng: np.random.Generator) -> float:
    """The tangent of a shallow crossing angle, 12-30 degrees from straight down."""
    return math.tan(math.radians(float(rng.uniform(12.0, 30.0))))
