"""How a prediction is made, as two frozen, typed settings objects.

The command line, the Python API, evaluation and the portal all build one
:class:`PredictSettings` and pass it down whole, so a setting is spelt, typed,
defaulted and checked in one place (as httpx groups ``Timeout`` and
``Limits``)::

    from visionkit import PredictSettings, SegmentSettings

    settings = PredictSettings(segment=SegmentSettings(tta=True, tile=512), threshold=0.6)
    prediction = visionkit.predict("plate.png", settings=settings)

:class:`SegmentSettings` says how the network is run over the plate (runtime,
scale, tiles, test-time augmentation, mask upsampling); :class:`PredictSettings`
adds what turns maps into a prediction (plants expected, landmark threshold,
which masks are kept, input limits). Both check their values when built and
raise :class:`~visionkit.exceptions.SettingsError` naming the field, so a bad
option fails before any model is loaded. Use :meth:`PredictSettings.replace`
(or :func:`dataclasses.replace`) to derive a changed copy.

This module imports nothing heavy: the CLI builds settings before it decides
whether the inference stack is needed at all.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from visionkit.exceptions import SettingsError

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_REFINE_RADIUS",
    "TTA_MODES",
    "PredictSettings",
    "SegmentSettings",
]

#: Inference runtimes (:mod:`visionkit.inference.runtime`): ONNX Runtime is the
#: fastest on a CPU (``benchmarks/bench_predict.py``); ``onnx-int8`` quantises.
BACKENDS: tuple[str, ...] = ("onnx", "torch", "torchscript", "onnx-int8")

#: The runtime used when neither the settings nor the model name one (a
#: model's ``config.json`` may prefer another: the shipped default model
#: prefers ``onnx-int8``, measured on its own plates).
DEFAULT_BACKEND = "onnx"

#: Test-time augmentation modes by name (``True`` means ``"hflip"``).
TTA_MODES: tuple[str, ...] = ("hflip", "flips")

#: Edge-aware mask upsampling radius in working pixels (0 is bilinear).
DEFAULT_REFINE_RADIUS = 3

#: Largest accepted working scale (working pixels per input pixel).
_MAX_SCALE = 4.0


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_optional_int(name: str, value: Any, *, minimum: int) -> None:
    if value is not None:
        _check_int(name, value, minimum=minimum)


@dataclass(frozen=True)
class SegmentSettings:
    """How the network is run over one plate.

    Attributes:
        backend: one of :data:`BACKENDS`; ``None`` (the default) runs the
            model's own preference (``ModelConfig.backend``, checked on its
            plates when it was set), else :data:`DEFAULT_BACKEND`.
        scale: working pixels per input pixel, in (0, 4]; ``None`` lets the
            pipeline choose: the model's training resolution in pixels per
            millimetre, from the measured dish when there is one.
        tile: largest tile side in working pixels (rounded up to a multiple of 32).
        overlap: pixels neighbouring tiles share, in ``[0, tile)``.
        batch: tiles per model call, >= 1.
        tta: test-time augmentation: ``False``, ``True`` (horizontal flip),
            ``"hflip"`` or ``"flips"`` (horizontal and vertical).
        threads: CPU threads for the runtime (``None``: the runtime's choice).
        refine: edge-aware mask upsampling radius in working pixels; 0 is bilinear.
        skip_empty: run the network only over the band of rows that holds the
            plants (from the dish's top, where the seedlings are sown, down to
            the lowest foreground a coarse pass sees; strips are added while
            roots leave the band) with the same ``tile``-sized tiles, and
            take the rows below as background
            (:mod:`visionkit.inference.sparse`); the default since it kept
            root F1, seed F1 and tips on fresh validation plates at a fraction
            of the work; ``False`` runs every pixel.
    """

    backend: str | None = None
    scale: float | None = None
    tile: int = 768
    overlap: int = 64
    batch: int = 2
    tta: bool | Literal["hflip", "flips"] = False
    threads: int | None = None
    refine: int = DEFAULT_REFINE_RADIUS
    skip_empty: bool = True

    def __post_init__(self) -> None:
        if self.backend is not None and self.backend not in BACKENDS:
            raise SettingsError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.scale is not None and not (
            isinstance(self.scale, int | float)
            and math.isfinite(self.scale)
            and 0 < self.scale <= _MAX_SCALE
        ):
            raise SettingsError(f"scale must be in (0, {_MAX_SCALE:g}], got {self.scale!r}")
        _check_int("tile", self.tile, minimum=32)
        _check_int("overlap", self.overlap, minimum=0)
        if self.overlap >= self.tile:
            raise SettingsError(
                f"overlap must be smaller than tile ({self.tile}), got {self.overlap}"
            )
        _check_int("batch", self.batch, minimum=1)
        if not isinstance(self.tta, bool) and self.tta not in TTA_MODES:
            raise SettingsError(
                f"tta must be True, False or one of {', '.join(TTA_MODES)}, got {self.tta!r}"
            )
        _check_optional_int("threads", self.threads, minimum=1)
        _check_int("refine", self.refine, minimum=0)
        if not isinstance(self.skip_empty, bool):
            raise SettingsError(f"skip_empty must be True or False, got {self.skip_empty!r}")

    def replace(self, **changes: Any) -> SegmentSettings:
        """A copy with ``changes``, checked again; an unknown name raises :class:`SettingsError`."""
        return _replace(self, changes)


@dataclass(frozen=True)
class PredictSettings:
    """Everything that shapes a prediction besides the model and the image.

    Attributes:
        segment: how the network is run (:class:`SegmentSettings`).
        expected_plants: seedlings per dish, >= 1.
        threshold: root probability above which a pixel joins a plant's root
            when landmarks are found, in (0, 1).
        masks: return root, shoot and seed masks at the input size.
        plant_roots_only: root masks keep only the plants' root systems
            (``False`` keeps every root pixel).
        max_pixels: refuse images with more pixels (``None``: the library's
            limit, :data:`visionkit.imageio.MAX_PIXELS`).
        dish: ``"auto"`` finds the dish; ``None`` uses the whole image; an
            ``(x0, y0, x1, y1)`` box uses that region.
    """

    segment: SegmentSettings = field(default_factory=SegmentSettings)
    expected_plants: int = 5
    threshold: float = 0.5
    masks: bool = True
    plant_roots_only: bool = True
    max_pixels: int | None = None
    dish: Literal["auto"] | tuple[int, int, int, int] | None = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.segment, SegmentSettings):
            raise SettingsError(
                f"segment must be a SegmentSettings, got {type(self.segment).__name__}"
            )
        _check_int("expected_plants", self.expected_plants, minimum=1)
        if not (isinstance(self.threshold, int | float) and 0 < self.threshold < 1):
            raise SettingsError(f"threshold must be in (0, 1), got {self.threshold!r}")
        _check_optional_int("max_pixels", self.max_pixels, minimum=1)
        if self.dish not in ("auto", None):
            box = self.dish
            if not (
                isinstance(box, tuple | list)
                and len(box) == 4
                and all(isinstance(v, int | float) for v in box)
                and box[0] < box[2]
                and box[1] < box[3]
            ):
                raise SettingsError(
                    f"dish must be 'auto', None or a box (x0, y0, x1, y1) with x0 < x1 "
                    f"and y0 < y1, got {box!r}"
                )
            object.__setattr__(self, "dish", tuple(int(v) for v in box))

    def replace(self, **changes: Any) -> PredictSettings:
        """A copy with ``changes``; names of :class:`SegmentSettings` fields go to ``segment``.

        ``settings.replace(tta=True, threshold=0.6)`` sets ``segment.tta`` and
        ``threshold``. An unknown name raises :class:`SettingsError`.
        """
        if not changes:
            return self
        segment_names = _field_names(SegmentSettings)
        segment_changes = {k: v for k, v in changes.items() if k in segment_names}
        own_changes = {k: v for k, v in changes.items() if k not in segment_names}
        if segment_changes:
            base = own_changes.get("segment", self.segment)
            own_changes["segment"] = _replace(base, segment_changes)
        return _replace(self, own_changes, also=segment_names)


_SettingsT = TypeVar("_SettingsT", SegmentSettings, PredictSettings)


def _field_names(cls: type[Any]) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _replace(
    settings: _SettingsT, changes: dict[str, Any], *, also: frozenset[str] = frozenset()
) -> _SettingsT:
    """``dataclasses.replace`` that names unknown settings and the valid ones."""
    names = _field_names(type(settings))
    unknown = sorted(set(changes) - names)
    if unknown:
        valid = ", ".join(sorted(names | also))
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; valid settings: {valid}")
    return dataclasses.replace(settings, **changes) if changes else settings
