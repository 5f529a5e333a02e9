"""Any camera's resolution: the working scale that shows a plate to the model as it was trained.

A model sees plates at a fixed resolution: ``ModelConfig.scale`` is relative
to a nominal Hades frame of :data:`~visionkit.data.dish.NOMINAL_PX_PER_MM`
pixels per millimetre, so the network works at ``20 * scale`` px/mm (10 for
the default model). A camera with other optics gives another resolution, and
the dish tells which: it is :data:`~visionkit.data.dish.DISH_MM` across.
:func:`choose_resolution` picks the working scale (working pixels per input
pixel) from the measured dish:

- a plate within the model's training zoom range of its training data's
  resolution (``train_config.data_scale`` and ``scale_jitter`` in
  ``ModelConfig.extra``; Hades and +-10 % where the model does not say) runs
  at the training scale itself, exactly as in training;
- any other plate is resampled to the model's working resolution, so a
  plate photographed at half or one and a half times the resolution gives
  the model the same picture (limited to working scale 4);
- where the dish is not measured (none found, or a region given instead),
  the plate is taken to be at the training data's resolution, and
  :meth:`Resolution.keep` lowers the image confidence to say so;
- a plate far below the model's resolution (under :data:`MIN_RATIO` of it:
  a root tip is a pixel or two wide) cannot be brought up by resampling; it
  is flagged with a warning and a lower image confidence.

Everything found at working scale is mapped back to the input's pixels by
:class:`~visionkit.inference.segment.SegmentationResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from visionkit.data.dish import NOMINAL_PX_PER_MM

if TYPE_CHECKING:
    from visionkit.data.dish import Dish
    from visionkit.modelfolder import ModelConfig

__all__ = [
    "DEFAULT_ZOOM_RANGE",
    "MAX_SCALE",
    "MIN_RATIO",
    "UNMEASURED_KEEP",
    "Resolution",
    "choose_resolution",
]

#: Relative zoom range a model is taken to have been trained over when its
#: config does not say (``TrainConfig.scale_jitter``'s default).
DEFAULT_ZOOM_RANGE = 0.1

#: Largest working scale chosen (as :class:`~visionkit.settings.SegmentSettings` allows).
MAX_SCALE = 4.0

#: A plate with fewer pixels per millimetre than this share of the model's
#: working resolution is flagged as below it.
MIN_RATIO = 0.75

#: The image confidence is multiplied by this where the dish was not measured.
UNMEASURED_KEEP = 0.7


@dataclass(frozen=True)
class Resolution:
    """How a plate's resolution compares with the model's, and the working scale chosen.

    Attributes:
        scale: working pixels per input pixel.
        model_px_per_mm: the model's working resolution, ``20 * ModelConfig.scale``.
        training_px_per_mm: the resolution of the plates it was trained on.
        input_px_per_mm: the plate's resolution from its dish; ``None`` when
            the dish was not measured.
        trained_on: the plate lies within the zoom range the model was
            trained over (so it is never flagged as below its resolution).
        chosen: the scale was chosen here (``False``: the caller fixed it).
    """

    scale: float
    model_px_per_mm: float
    training_px_per_mm: float
    input_px_per_mm: float | None
    trained_on: bool = False
    chosen: bool = True

    @property
    def assumed_px_per_mm(self) -> float:
        """The plate's resolution as measured, else the training data's."""
        if self.input_px_per_mm is not None:
            return self.input_px_per_mm
        return self.training_px_per_mm

    @property
    def ratio(self) -> float | None:
        """The plate's resolution over the model's (``None`` when not measured)."""
        if self.input_px_per_mm is None:
            return None
        return self.input_px_per_mm / self.model_px_per_mm

    @property
    def below_model(self) -> bool:
        """Whether the plate is far below the model's resolution (:data:`MIN_RATIO`)."""
        ratio = self.ratio
        return ratio is not None and ratio < MIN_RATIO and not self.trained_on

    def keep(self) -> float:
        """The factor in (0, 1] the image confidence is multiplied by for this resolution."""
        if self.input_px_per_mm is None:
            return UNMEASURED_KEEP
        ratio = self.ratio
        if ratio is None or not self.below_model:
            return 1.0
        return ratio / MIN_RATIO

    def reason(self) -> str | None:
        """Why the resolution lowers the image confidence, or ``None`` when it does not."""
        if self.input_px_per_mm is None:
            return (
                f"the dish was not measured, so the plate is assumed to be at "
                f"{self.training_px_per_mm:.3g} px/mm"
            )
        if self.below_model:
            return (
                f"the plate's {self.input_px_per_mm:.3g} px/mm is below the model's "
                f"{self.model_px_per_mm:.3g} px/mm"
            )
        return None

    def warning(self) -> str | None:
        """The prediction warning for a plate far below the model's resolution, else ``None``."""
        if not self.below_model:
            return None
        assert self.input_px_per_mm is not None
        return (
            f"the plate is below the model's resolution ({self.input_px_per_mm:.3g} px/mm, "
            f"the model works at {self.model_px_per_mm:.3g} px/mm): thin roots and tips "
            f"may be lost or misplaced by {1.0 / self.input_px_per_mm:.2g} mm or more; "
            f"photograph the plate at a higher resolution"
        )


def _training(config: ModelConfig) -> tuple[float, float]:
    """The training data's resolution in px/mm and the zoom range trained over."""
    train: Any = config.extra.get("train_config") or {}
    data_scale = float(train.get("data_scale", 1.0) or 1.0)
    zoom = float(train.get("scale_jitter", DEFAULT_ZOOM_RANGE) or 0.0)
    return NOMINAL_PX_PER_MM * data_scale, zoom


def choose_resolution(config: ModelConfig, scale: float | None, dish: Dish | None) -> Resolution:
    """The working scale for a plate whose dish is ``dish`` (see the module docstring).

    Args:
        config: the model's config.
        scale: a working scale fixed by the caller, or ``None`` to choose one.
        dish: the dish found on the plate (its ``mm_per_px``), or ``None``.
    """
    training_px_per_mm, zoom = _training(config)
    model_px_per_mm = NOMINAL_PX_PER_MM * float(config.scale)
    measured = None
    if dish is not None and dish.mm_per_px:
        measured = 1.0 / float(dish.mm_per_px)
    trained_on = measured is not None and abs(measured / training_px_per_mm - 1.0) <= zoom
    if scale is not None:
        chosen, by_caller = float(scale), True
    elif measured is None or trained_on:
        chosen, by_caller = model_px_per_mm / training_px_per_mm, False
    else:
        chosen, by_caller = min(MAX_SCALE, model_px_per_mm / measured), False
    return Resolution(
        chosen,
        model_px_per_mm,
        training_px_per_mm,
        measured,
        trained_on=trained_on,
        chosen=not by_caller,
    )
