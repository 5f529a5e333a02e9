"""What a synthetic plate may look like: sizes, rates of the hard cases, ranges of looks.

Every length that describes the plate itself (root width, droplet size, dish
size) is given in millimetres and turned into pixels with the plate's
``px_per_mm``, so a config scaled down with :meth:`SynthConfig.scaled` draws
the same plate at a lower resolution. Ranges are ``(low, high)`` tuples; each
plate draws its own value from each range, so a data set varies plate to
plate the way real experiments do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from visionkit.synth.families import check_families

__all__ = ["SynthConfig"]

Range = tuple[float, float]


@dataclass(frozen=True)
class SynthConfig:
    """How to draw synthetic Hades plates.

    Attributes:
        width, height: frame size in pixels (Hades: 4202 x 3006).
        px_per_mm: nominal resolution; each plate jitters it by up to
            ``px_per_mm_jitter`` (relative) like different camera set-ups.
        dish_mm: side of the square dish (NPEC: 129 mm outer wall).
        dish_offset_mm: how far the dish centre may sit from the frame centre.
        dish_rotation_deg: the dish may be turned by up to this many degrees.
        n_plants: seedlings sown in a row near the top.
        root_length_mm: range of the primary-root length of a plate's plants
            (each plate draws an age; its plants vary around it).
        p_missing_plant: per plant, no seedling at all (or a seed that did not
            germinate); listed with ``present: false``.
        p_late_plant: per plant, a tiny late seedling with a root of a few mm.
        p_lateral_below_tip: per plant, force a lateral root that ends lower
            than the primary tip.
        p_crossing: per plate, make one root slant across its neighbour's.
        p_under_droplet: per plant, put a large droplet over the primary root
            (the hidden part is labelled ``occluded_root``).
        agar_grey: range of the agar's median grey level.
        noise_sigma: range of the sensor noise (grey levels at the agar level).
        blur_sigma_mm: range of the optical blur (Gaussian sigma, mm).
        droplet_density: range of a multiplier on the condensation density.
        root_contrast_top: range of the primary root's darkening just below
            the shoot (grey levels at the agar level).
        root_contrast_tip: range of the darkening at the tip (real faint tips
            are only 8-10 grey levels below the agar).
        root_hair_density: range of root hairs per mm of root (0 = none).
        families: variation families drawn on top of the base plate (see
            :mod:`visionkit.synth.families`); empty draws the base plates only.
            Name a family in a validation config and leave it out of the
            training config to hold it out.
        p_family: each named family's chance per plant (per plate for the
            plate-level families ``wide`` and ``shallow_crossing``).
    """

    width: int = 4202
    height: int = 3006
    px_per_mm: float = 20.5
    px_per_mm_jitter: float = 0.035
    dish_mm: float = 129.0
    dish_offset_mm: float = 3.0
    dish_rotation_deg: float = 2.0
    n_plants: int = 5
    root_length_mm: Range = (3.0, 100.0)
    p_missing_plant: float = 0.05
    p_late_plant: float = 0.06
    p_lateral_below_tip: float = 0.12
    p_crossing: float = 0.15
    p_under_droplet: float = 0.10
    agar_grey: Range = (178.0, 222.0)
    noise_sigma: Range = (1.6, 3.2)
    blur_sigma_mm: Range = (0.02, 0.05)
    droplet_density: Range = (0.3, 1.8)
    root_contrast_top: Range = (18.0, 90.0)
    root_contrast_tip: Range = (10.0, 22.0)
    root_hair_density: Range = (0.0, 12.0)
    families: tuple[str, ...] = ()
    p_family: float = 0.5

    def __post_init__(self) -> None:
        if self.width < 64 or self.height < 64:
            raise ValueError(
                f"SynthConfig: frame {self.width}x{self.height} is too small; use >= 64 px"
            )
        if self.px_per_mm <= 0:
            raise ValueError(f"SynthConfig: px_per_mm must be positive, got {self.px_per_mm}")
        side = self.dish_mm * self.px_per_mm * (1 + self.px_per_mm_jitter)
        if side > min(self.width, self.height):
            raise ValueError(
                f"SynthConfig: a {self.dish_mm} mm dish at up to "
                f"{self.px_per_mm * (1 + self.px_per_mm_jitter):.2f} px/mm ({side:.0f} px) "
                f"does not fit a {self.width}x{self.height} frame; lower px_per_mm"
            )
        if self.n_plants < 1:
            raise ValueError(f"SynthConfig: n_plants must be >= 1, got {self.n_plants}")
        try:
            object.__setattr__(self, "families", check_families(self.families))
        except ValueError as error:
            raise ValueError(f"SynthConfig: {error}") from None
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.startswith("p_") and not 0.0 <= value <= 1.0:
                raise ValueError(f"SynthConfig: {item.name}={value} is not a probability in [0, 1]")
            if (
                item.name != "families"
                and isinstance(value, tuple)
                and (len(value) != 2 or value[0] > value[1])
            ):
                raise ValueError(f"SynthConfig: {item.name}={value} must be a (low, high) pair")

    def scaled(self, factor: float) -> SynthConfig:
        """The same plates drawn at ``factor`` times the resolution (e.g. 0.5 = half scale)."""
        if factor <= 0:
            raise ValueError(f"SynthConfig.scaled: factor must be positive, got {factor}")
        return replace(
            self,
            width=max(64, round(self.width * factor)),
            height=max(64, round(self.height * factor)),
            px_per_mm=self.px_per_mm * factor,
        )
