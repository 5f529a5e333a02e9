"""Segment a whole plate image: dish crop, rescale, tiles, blend, map back.

:func:`segment_image` is the one call between an image and probability maps:

1. find the dish (:func:`visionkit.data.dish.detect_dish`) and crop to its
   box; with no dish found, segment the whole image and say so in
   ``warnings``;
2. rescale the crop by the working ``scale`` (the model's
   ``ModelConfig.scale`` unless given) and normalise it with
   ``ModelConfig.normalize``;
3. run the model on overlapping tiles in batches through a runtime
   (:mod:`~visionkit.inference.runtime`), divide the logits by
   ``ModelConfig.temperature``, softmax, and blend the tiles with cosine
   windows (:mod:`~visionkit.inference.tiling`);
4. optionally repeat on flipped copies (TTA) and average.

The :class:`SegmentationResult` keeps the maps at working resolution (small:
a half-scale dish is about 1350 x 1350) and knows how to take points and
masks back to the input image: ``to_input_xy`` and
``masks_at_input_size``. See :mod:`visionkit.inference` for what each
probability and uncertainty means.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from visionkit.exceptions import ImageError, ModelError
from visionkit.inference.offset import shift_maps
from visionkit.inference.refine import DEFAULT_RADIUS, GUIDE_SIGMA, guided_upsample
from visionkit.inference.temperature import softmax
from visionkit.inference.tiling import TileBlender, balanced_tile, tiles
from visionkit.inference.tta import flip, flips_for, unflip
from visionkit.inference.uncertainty import (
    class_confidence,
    combine_uncertainty,
    predictive_entropy,
)
from visionkit.modelfolder import SavedModel

if TYPE_CHECKING:
    from visionkit.data.dish import Dish
    from visionkit.inference.runtime import Runtime

__all__ = ["DEFAULT_BACKEND", "MULTIPLE", "SegmentationResult", "segment_image"]

logger = logging.getLogger(__name__)

#: Tile sides are rounded up to a multiple of this (a 5-level U-Net halves 5 times).
MULTIPLE = 32

#: The backend used when none is named: the fastest on CPU (see the benchmark).
DEFAULT_BACKEND = "onnx"

_NOMINAL_PX_PER_MM = 20.0

#: Classes whose edges are edges in the image, so edge-aware upsampling
#: sharpens them. An occluded root lies under a droplet whose rim is the
#: strongest edge around: it is upsampled linearly.
REFINED_CLASSES = frozenset({"root", "shoot", "seed"})

#: Classes whose masks ``root_support`` limits to the plants' root systems.
SUPPORTED_CLASSES = frozenset({"root", "occluded_root"})

#: The margin given to root pixels outside the plants' root systems: below
#: any threshold (margins of probabilities lie in [-1, 1]).
OUTSIDE_SUPPORT = np.float32(-2.0)


@dataclass
class SegmentationResult:
    """Per-class probabilities over the (cropped, rescaled) plate, and the way back.

    Attributes:
        probabilities: ``(C, h, w)`` float32 or float16 at working resolution;
            channel ``i`` is class ``classes[i]``; they sum to 1 per pixel.
        classes: class names, background first.
        offset: ``(x0, y0)`` of the segmented region in the input image.
        crop_size: ``(width, height)`` of that region in input pixels.
        input_size: ``(width, height)`` of the input image.
        scale: the working scale asked for (working pixels per input pixel).
        dish: the dish found, or ``None`` when the whole image was used.
        disagreement: ``(h, w)`` standard deviation of the root probability
            across TTA passes; ``None`` without TTA.
        passes: with TTA, each pass's probabilities (float16, flipped back),
            so landmarks can be found per pass and their agreement measured;
            empty without TTA.
        warnings: what a user should know (e.g. no dish found).
        timing_ms: ``{"dish", "segment"}`` milliseconds.
        backend: the runtime that ran the model.
        guide: the grey crop of the input image, which edge-aware
            upsampling follows; ``None`` turns it off.
        refine_radius: the guided filter's radius in working pixels for
            masks at input size (:mod:`~visionkit.inference.refine`); 0 upsamples
            bilinearly.
        root_support: ``(h, w)`` bool at working resolution, the root pixels
            that belong to the plants (``Landmarks.root_support`` from
            :func:`~visionkit.landmarks.find_landmarks`, which the pipeline
            hands over with ``dataclasses.replace``); root and occluded-root
            masks at input size keep only what lies near it. ``None`` keeps
            every root pixel.
        mask_thresholds: per class, the margin above which a pixel is in the
            mask at input size (``ModelConfig.mask_thresholds``); 0 otherwise.
        map_offset: ``(dx, dy)`` working pixels by which the model's maps lie
            right of / below the image (``ModelConfig.map_offset``). The maps
            are kept as the model made them; point mappings, masks at input
            size and :meth:`working_coverage` take the offset into account.
    """

    probabilities: np.ndarray
    classes: tuple[str, ...]
    offset: tuple[int, int]
    crop_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: float
    dish: Dish | None = None
    disagreement: np.ndarray | None = None
    passes: list[np.ndarray] = field(default_factory=list, repr=False)
    warnings: list[str] = field(default_factory=list)
    timing_ms: dict[str, float] = field(default_factory=dict)
    backend: str = ""
    guide: np.ndarray | None = field(default=None, repr=False)
    refine_radius: int = 0
    root_support: np.ndarray | None = field(default=None, repr=False)
    mask_thresholds: dict[str, float] = field(default_factory=dict)
    map_offset: tuple[float, float] = (0.0, 0.0)

    @functools.cached_property
    def uncertainty(self) -> np.ndarray:
        """``(h, w)`` float32 in [0, 1]: normalised entropy, raised by TTA disagreement.

        Computed on first use (a dish at half scale takes tens of
        milliseconds), see :mod:`visionkit.inference` for its meaning.
        """
        entropy = predictive_entropy(np.asarray(self.probabilities, dtype=np.float32))
        return combine_uncertainty(entropy, self.disagreement)

    @property
    def working_size(self) -> tuple[int, int]:
        """``(width, height)`` of the probability maps."""
        return int(self.probabilities.shape[2]), int(self.probabilities.shape[1])

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Working pixels per input pixel along x and y (exact, after rounding sizes)."""
        (ww, wh), (cw, ch) = self.working_size, self.crop_size
        return ww / cw, wh / ch

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` of the segmented region in the input image."""
        (x0, y0), (cw, ch) = self.offset, self.crop_size
        return x0, y0, x0 + cw, y0 + ch

    @property
    def mm_per_px(self) -> float | None:
        """Millimetres per *input* pixel from the dish, or ``None`` with no dish."""
        if self.dish is None or self.dish.mm_per_px is None:
            return None
        return float(self.dish.mm_per_px)

    @property
    def working_px_per_mm(self) -> float:
        """Working pixels per millimetre (from the dish; nominal Hades 20 px/mm without one)."""
        mm = self.mm_per_px
        per_input = 1.0 / mm if mm else _NOMINAL_PX_PER_MM
        return per_input * float(np.mean(self.scale_xy))

    def index(self, name: str) -> int:
        """The channel of class ``name``.

        Raises:
            ModelError: the model has no such class (lists the ones it has).
        """
        if name not in self.classes:
            raise ModelError(
                f"the model has no class {name!r}; its classes are {', '.join(self.classes)}"
            )
        return self.classes.index(name)

    def prob(self, name: str) -> np.ndarray:
        """Class ``name``'s ``(h, w)`` probability map as float32."""
        return np.asarray(self.probabilities[self.index(name)], dtype=np.float32)

    def labels(self) -> np.ndarray:
        """The arg-max class index per working pixel, ``(h, w)`` uint8."""
        return np.argmax(self.probabilities, axis=0).astype(np.uint8)

    def to_input_xy(self, points: Any) -> np.ndarray:
        """Map working ``(x, y)`` points (``(2,)`` or ``(N, 2)``) to input-image pixels.

        Pixel centres map to pixel centres, less the map offset:
        ``x_in = x0 + (x - dx + 0.5) / sx - 0.5``.
        """
        xy = np.asarray(points, dtype=np.float64)
        sx, sy = self.scale_xy
        dx, dy = self.map_offset
        out = np.empty_like(xy)
        out[..., 0] = self.offset[0] + (xy[..., 0] - dx + 0.5) / sx - 0.5
        out[..., 1] = self.offset[1] + (xy[..., 1] - dy + 0.5) / sy - 0.5
        return out

    def to_working_xy(self, points: Any) -> np.ndarray:
        """Map input-image ``(x, y)`` points to working pixels (inverse of :meth:`to_input_xy`)."""
        xy = np.asarray(points, dtype=np.float64)
        sx, sy = self.scale_xy
        dx, dy = self.map_offset
        out = np.empty_like(xy)
        out[..., 0] = (xy[..., 0] - self.offset[0] + 0.5) * sx - 0.5 + dx
        out[..., 1] = (xy[..., 1] - self.offset[1] + 0.5) * sy - 0.5 + dy
        return out

    def working_coverage(self, mask: np.ndarray) -> np.ndarray:
        """Share of the input pixels under each working pixel where ``mask`` (input size) is set.

        ``(h, w)`` float32 in [0, 1]: ground truth brought to the maps' grid
        (area averaging, then the map offset), for scoring and fitting at
        working resolution.
        """
        import cv2

        x0, y0, x1, y1 = self.bbox
        crop = np.asarray(mask[y0:y1, x0:x1], dtype=np.float32)
        size = self.working_size
        if (crop.shape[1], crop.shape[0]) != size:
            crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.float32)
        dx, dy = self.map_offset
        shares = shift_maps(crop[None], (-dx, -dy))[0]
        # Area weights are floats: a share can land a hair outside [0, 1].
        return np.clip(np.asarray(shares, dtype=np.float32), 0.0, 1.0)

    def mask_at_input_size(self, name: str, threshold: float | None = None) -> np.ndarray:
        """Class ``name``'s mask at the input image's size, ``uint8`` 0/255.

        :meth:`margin_at_crop_size` above ``threshold`` (default: the model's
        ``mask_thresholds`` entry, else 0, the arg-max); outside the crop is 0.
        """
        if threshold is None:
            threshold = float(self.mask_thresholds.get(name, 0.0))
        keep = self.margin_at_crop_size(name) > threshold
        width, height = self.input_size
        full = np.zeros((height, width), dtype=np.uint8)
        x0, y0 = self.offset
        cw, ch = self.crop_size
        full[y0 : y0 + ch, x0 : x0 + cw] = np.where(keep, 255, 0).astype(np.uint8)
        return full

    def margin_at_crop_size(self, name: str) -> np.ndarray:
        """The margin ``p(name) - max(other classes)`` over the crop, ``float32``.

        Brought from the working scale to the crop's size so thin roots stay
        smooth and connected instead of turning into blocks. With a ``guide``
        and ``refine_radius`` the upsampling of root, shoot and seed is
        edge-aware (it puts the mask's edges on the image's), else linear.
        With ``root_support``, root and occluded-root pixels away from the
        plants' root systems get :data:`OUTSIDE_SUPPORT`.
        """
        import cv2

        index = self.index(name)
        probs = self.probabilities
        target = probs[index].astype(np.float32)
        others = np.delete(probs, index, axis=0)
        margin = target - (others.max(axis=0).astype(np.float32) if len(others) else 0.0)
        margin = shift_maps(np.asarray(margin, np.float32)[None], self.map_offset)[0]
        cw, ch = self.crop_size
        if (cw, ch) != self.working_size:
            if self.guide is not None and self.refine_radius > 0 and name in REFINED_CLASSES:
                margin = guided_upsample(
                    margin,
                    self.guide,
                    radius=self.refine_radius,
                    guide_sigma=GUIDE_SIGMA.get(name, 0.0),
                )
            else:
                margin = cv2.resize(margin, (cw, ch), interpolation=cv2.INTER_LINEAR)
        margin = np.asarray(margin, dtype=np.float32)
        if name in SUPPORTED_CLASSES and self.root_support is not None:
            margin[~self._support_at_crop_size(self.root_support)] = OUTSIDE_SUPPORT
        return margin

    def _support_at_crop_size(self, support: np.ndarray) -> np.ndarray:
        """``support`` grown by two working pixels (edges refine outward), at crop size.

        About 2 ms for a half-scale dish, so it is not kept between masks.
        """
        import cv2

        grown = cv2.dilate(support.astype(np.uint8), np.ones((5, 5), np.uint8))
        cw, ch = self.crop_size
        if (cw, ch) != self.working_size:
            grown = cv2.resize(grown, (cw, ch), interpolation=cv2.INTER_NEAREST_EXACT)
        return np.asarray(grown, dtype=bool)

    def masks_at_input_size(
        self, names: Sequence[str] = ("root", "shoot", "seed")
    ) -> dict[str, np.ndarray]:
        """:meth:`mask_at_input_size` for each class in ``names`` that the model has."""
        return {name: self.mask_at_input_size(name) for name in names if name in self.classes}

    def class_confidence(
        self, names: Sequence[str] = ("root", "shoot", "seed")
    ) -> dict[str, float]:
        """Mean probability of each class over its predicted region (0 when it has none)."""
        present = [name for name in names if name in self.classes]
        return class_confidence(self.probabilities, self.classes, present)


def _grey(pixels: np.ndarray) -> np.ndarray:
    """The model-input crop as one grey channel (a view when it is grey already)."""
    if pixels.ndim == 2:
        return pixels
    import cv2

    return np.asarray(cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY))


def _model_input(image: np.ndarray, in_channels: int) -> np.ndarray:
    """The image as the model wants it: ``(H, W)`` grey or ``(H, W, 3)`` colour uint8."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if in_channels == 1:
        if image.ndim == 3:
            code = cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY
            return np.asarray(cv2.cvtColor(np.ascontiguousarray(image), code))
        return image
    if in_channels == 3:
        if image.ndim == 2:
            return np.repeat(image[:, :, None], 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3])
    raise ModelError(f"models with {in_channels} input channels are not supported; use 1 or 3")


def _resolve_dish(
    image: np.ndarray, dish: Any
) -> tuple[Dish | None, tuple[int, int, int, int], list[str]]:
    """The region to segment, the dish (if any) and warnings."""
    height, width = image.shape[:2]
    whole = (0, 0, width, height)
    if dish is None or dish is False:
        return None, whole, []
    if isinstance(dish, str):
        if dish != "auto":
            raise ValueError(f"dish must be 'auto', None, a Dish or a bbox, got {dish!r}")
        from visionkit.data.dish import detect_dish

        found = detect_dish(image)
        if not found.found or found.bbox is None:
            return (
                None,
                whole,
                [f"no dish found ({found.reason}); segmented the whole image"],
            )
        return found, found.bbox, []
    if hasattr(dish, "found"):
        if not dish.found or dish.bbox is None:
            return None, whole, [f"no dish found ({dish.reason}); segmented the whole image"]
        return dish, tuple(int(v) for v in dish.bbox), []  # type: ignore[return-value]
    x0, y0, x1, y1 = (int(v) for v in dish)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        raise ImageError(f"dish box {tuple(dish)} lies outside the {width} x {height} image")
    return None, (x0, y0, x1, y1), []


def _align_pass(probs: np.ndarray, name: str, offset: tuple[float, float]) -> np.ndarray:
    """A flipped pass's maps moved onto the unflipped pass's map offset.

    The network draws everything ``map_offset`` right of and below where it
    is in the image it sees; flipped back, a horizontal pass's maps lie left
    of the image instead. Averaged as they are, the passes would blur the
    offset away on that axis, so each is moved by twice the offset along the
    axes it flipped (one whole pixel for the default model: no blur).
    """
    dx, dy = offset
    move = (-2.0 * dx if name == "hflip" else 0.0, -2.0 * dy if name == "vflip" else 0.0)
    return shift_maps(probs, move)


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, math.ceil(value / multiple) * multiple)


def _normalise(work: np.ndarray, normalize: tuple[float, float]) -> np.ndarray:
    mean, std = (float(v) for v in normalize)
    if std <= 0:
        raise ModelError(f"model config normalize={normalize!r}: std must be positive")
    scaled = work.astype(np.float32) * np.float32(1.0 / (255.0 * std)) - np.float32(mean / std)
    if scaled.ndim == 2:
        return scaled[None]
    return np.ascontiguousarray(np.moveaxis(scaled, -1, 0))


def _run_pass(
    runtime: Runtime,
    planes: np.ndarray,
    *,
    classes: int,
    tile: int,
    overlap: int,
    batch: int,
    temperature: float,
) -> np.ndarray:
    """Blended ``(classes, H, W)`` probabilities of one ``(C_in, H, W)`` input."""
    _, height, width = planes.shape
    tile_h = balanced_tile(height, tile, overlap, MULTIPLE)
    tile_w = balanced_tile(width, tile, overlap, MULTIPLE)
    pad_h, pad_w = max(0, tile_h - height), max(0, tile_w - width)
    if pad_h or pad_w:
        planes = np.pad(planes, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")
    full_h, full_w = planes.shape[1:]
    overlap = min(overlap, min(tile_h, tile_w) - 1)
    blender = TileBlender(classes, full_h, full_w, overlap)
    positions = tiles(full_h, full_w, (tile_h, tile_w), overlap)
    for first in range(0, len(positions), batch):
        group = positions[first : first + batch]
        stack = np.stack([planes[:, y : y + tile_h, x : x + tile_w] for y, x in group])
        logits = runtime(stack)
        if logits.ndim != 4 or logits.shape[1] != classes or logits.shape[2:] != stack.shape[2:]:
            raise ModelError(
                f"the model returned shape {tuple(logits.shape)} for a batch of "
                f"{tuple(stack.shape)}; its config lists {classes} classes, so "
                f"(N, {classes}, {tile_h}, {tile_w}) was expected: the weights and "
                f"config.json do not belong together"
            )
        probs = softmax(logits, axis=1, temperature=temperature)
        for (y, x), values in zip(group, probs, strict=True):
            blender.add(values, y, x)
        logger.debug("segmented tiles %d-%d of %d", first + 1, first + len(group), len(positions))
    return blender.result()[:, :height, :width]


def segment_image(
    model: SavedModel,
    image: np.ndarray,
    *,
    scale: float | None = None,
    tile: int = 768,
    overlap: int = 64,
    batch: int = 2,
    tta: bool | str | Sequence[str] = False,
    backend: str = DEFAULT_BACKEND,
    dish: Any = "auto",
    threads: int | None = None,
    dtype: Any = np.float32,
    runtime: Runtime | None = None,
    refine: int = DEFAULT_RADIUS,
) -> SegmentationResult:
    """Per-class probability maps of a plate image (see the module docstring).

    Args:
        model: a loaded model (:func:`visionkit.modelfolder.load_model`).
        image: ``uint8`` ``(H, W)`` grey or ``(H, W, 3|4)`` colour.
        scale: working pixels per input pixel; ``None`` uses ``model.config.scale``.
        tile: largest tile side in working pixels; sides are balanced so a
            dish needs as few tiles as this allows with the least padding
            (a half-scale dish: 2 x 2 tiles of 736), multiples of 32.
        overlap: pixels neighbouring tiles share; blended with cosine windows.
        batch: tiles per model call.
        tta: ``False``, ``True`` (horizontal flip), ``"flips"`` (horizontal
            and vertical) or a list of ``"identity"``/``"hflip"``/``"vflip"``.
        backend: ``"onnx"`` (default, fastest on CPU), ``"torch"``,
            ``"torchscript"`` or ``"onnx-int8"``.
        dish: ``"auto"`` (detect and crop), ``None`` (whole image), a
            :class:`~visionkit.data.dish.Dish`, or an ``(x0, y0, x1, y1)`` box.
        threads: CPU threads for the runtime; ``None`` keeps its default.
        dtype: ``np.float32`` or ``np.float16`` for the stored probabilities.
        runtime: a ready runtime to use instead of building ``backend``'s.
        refine: radius in working pixels of the edge-aware upsampling of
            masks to the input size (:mod:`~visionkit.inference.refine`); 0
            upsamples bilinearly.

    Raises:
        ImageError: ``image`` is not a non-empty uint8 2-D or 3-D array.
        ModelError: the model's output does not fit its config.
        ValueError: a bad ``scale``, ``tile``, ``overlap``, ``batch`` or ``tta``.
    """
    import cv2

    from visionkit.inference.runtime import get_runtime

    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ImageError(
            f"segment_image needs a non-empty (H, W) or (H, W, C) array, got shape "
            f"{getattr(image, 'shape', type(image).__name__)}"
        )
    if image.dtype != np.uint8:
        raise ImageError(
            f"segment_image needs uint8 pixels, got {image.dtype}; read the file with "
            f"visionkit.imageio.read_image"
        )
    config = model.config
    scale = float(config.scale if scale is None else scale)
    if not (math.isfinite(scale) and 0 < scale <= 4):
        raise ValueError(f"scale must be in (0, 4], got {scale}")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    passes = flips_for(tta)
    tile = _round_up(int(tile), MULTIPLE)
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, {tile}), got {overlap}")

    start = time.perf_counter()
    found, (x0, y0, x1, y1), warnings = _resolve_dish(image, dish)
    dish_ms = (time.perf_counter() - start) * 1000.0

    seg_start = time.perf_counter()
    pixels = _model_input(image, int(config.in_channels))[y0:y1, x0:x1]
    guide = _grey(pixels) if refine > 0 else None
    crop_h, crop_w = pixels.shape[:2]
    work_w, work_h = max(1, round(crop_w * scale)), max(1, round(crop_h * scale))
    if (work_w, work_h) != (crop_w, crop_h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        pixels = cv2.resize(pixels, (work_w, work_h), interpolation=interpolation)
    planes = _normalise(pixels, config.normalize)

    run = runtime or get_runtime(model, backend, threads=threads)
    n_classes = len(config.classes)
    total: np.ndarray | None = None
    root_sum = root_sq = None
    per_pass: list[np.ndarray] = []
    root_index = config.classes.index("root") if "root" in config.classes else None
    for name in passes:
        probs = unflip(
            _run_pass(
                run,
                flip(planes, name),
                classes=n_classes,
                tile=tile,
                overlap=overlap,
                batch=batch,
                temperature=float(config.temperature),
            ),
            name,
        )
        probs = _align_pass(probs, name, config.map_offset)
        total = probs if total is None else total + probs
        if len(passes) > 1:
            per_pass.append(probs.astype(np.float16))
        if root_index is not None and len(passes) > 1:
            root = probs[root_index]
            root_sum = root if root_sum is None else root_sum + root
            root_sq = root * root if root_sq is None else root_sq + root * root
    assert total is not None
    mean = total / np.float32(len(passes)) if len(passes) > 1 else total
    spread = None
    if root_sum is not None and root_sq is not None:
        n = np.float32(len(passes))
        variance = np.maximum(root_sq / n - (root_sum / n) ** 2, 0.0)
        spread = np.sqrt(variance).astype(np.float32)
    seg_ms = (time.perf_counter() - seg_start) * 1000.0
    logger.info(
        "segmented %d x %d px (crop %d x %d at scale %.2f, %d pass(es), %s) in %.0f ms",
        work_w,
        work_h,
        crop_w,
        crop_h,
        scale,
        len(passes),
        getattr(run, "name", backend),
        seg_ms,
    )
    return SegmentationResult(
        probabilities=mean.astype(dtype, copy=False),
        classes=tuple(config.classes),
        offset=(x0, y0),
        crop_size=(crop_w, crop_h),
        input_size=(int(image.shape[1]), int(image.shape[0])),
        scale=scale,
        dish=found,
        disagreement=spread,
        passes=per_pass,
        warnings=warnings,
        timing_ms={"dish": dish_ms, "segment": seg_ms},
        backend=str(getattr(run, "name", backend)),
        guide=guide,
        refine_radius=max(0, int(refine)),
        mask_thresholds={k: float(v) for k, v in config.mask_thresholds.items()},
        map_offset=(float(config.map_offset[0]), float(config.map_offset[1])),
    )
