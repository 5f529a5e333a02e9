"""Segment a whole plate image: dish crop, rescale, tiles, blend, map back.

:func:`segment_image` is the one call between an image and probability maps:

1. find the dish (:func:`visionkit.data.dish.detect_dish`) and crop to its
   box; with no dish found, segment the whole image and say so in
   ``warnings``;
2. rescale the crop to the model's resolution, from the dish's measured size
   (:mod:`~visionkit.inference.resolution`; a ``scale`` given in the
   settings is used as it is), and normalise it with ``ModelConfig.normalize``;
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

from visionkit.data.dish import NOMINAL_PX_PER_MM
from visionkit.exceptions import ImageError, ModelError
from visionkit.imageio import check_image, to_grey
from visionkit.inference.offset import shift_maps
from visionkit.inference.refine import DEFAULT_BLOCK, GUIDE_SIGMA, guided_masks, guided_upsample
from visionkit.inference.resolution import Resolution, choose_resolution
from visionkit.inference.sparse import SparseStats, run_sparse_pass
from visionkit.inference.temperature import softmax
from visionkit.inference.tiling import TileBlender, balanced_tile, tiles
from visionkit.inference.tta import flip, flips_for, unflip
from visionkit.inference.uncertainty import (
    channel_argmax,
    class_confidence,
    combine_uncertainty,
    predictive_entropy,
)
from visionkit.modelfolder import ModelConfig, SavedModel
from visionkit.settings import SegmentSettings
from visionkit.tracing import span

if TYPE_CHECKING:
    from visionkit.data.dish import Dish
    from visionkit.inference.runtime import Runtime

__all__ = ["MULTIPLE", "SegmentationResult", "segment_image"]

logger = logging.getLogger(__name__)

#: Tile sides are rounded up to a multiple of this (a 5-level U-Net halves 5 times).
MULTIPLE = 32

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
        resolution: how the plate's resolution compared with the model's and
            why ``scale`` was chosen (:mod:`~visionkit.inference.resolution`);
            ``None`` for results built by hand (taken as nominal Hades).
        sparse: with ``skip_empty``, what each pass's sparse run computed
            (tiles run and skipped, :mod:`~visionkit.inference.sparse`);
            empty for a dense run.
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
    resolution: Resolution | None = None
    sparse: list[SparseStats] = field(default_factory=list)

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
        """Working pixels per millimetre: from the dish, else the resolution assumed.

        Without a measured dish, the plate is taken to be at the resolution
        the model was trained on (nominal Hades 20 px/mm when unknown).
        """
        mm = self.mm_per_px
        if mm:
            per_input = 1.0 / mm
        elif self.resolution is not None:
            per_input = self.resolution.assumed_px_per_mm
        else:
            per_input = NOMINAL_PX_PER_MM
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
        return channel_argmax(self.probabilities)

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
        ww, wh = self.working_size
        if (cw, ch) != self.working_size:
            upsampling = ww <= cw and wh <= ch  # not so for a plate below the model's resolution
            if (
                upsampling
                and self.guide is not None
                and self.refine_radius > 0
                and name in REFINED_CLASSES
            ):
                margin = guided_upsample(
                    margin,
                    self.guide,
                    radius=self.refine_radius,
                    guide_sigma=GUIDE_SIGMA.get(name, 0.0),
                )
            else:
                shrink = cv2.INTER_LINEAR if upsampling else cv2.INTER_AREA
                margin = cv2.resize(margin, (cw, ch), interpolation=shrink)
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
        """:meth:`mask_at_input_size` for each class in ``names`` that the model has.

        The same masks, pixel for pixel, computed together: the margins come
        from one pass over the probabilities, classes that share a guide
        (:data:`~visionkit.inference.refine.GUIDE_SIGMA`) share its
        preparation, and each mask is thresholded straight to 0/255
        (:func:`~visionkit.inference.refine.guided_masks`) with no float map
        at the input size kept. Edge-aware upsampling runs only in the blocks
        of :data:`~visionkit.inference.refine.DEFAULT_BLOCK` working pixels
        that a class comes near (classes cover a few per cent of a dish); the
        rest is 0, as the full upsampling makes it.
        """
        import cv2

        present = [name for name in names if name in self.classes]
        if not present:
            return {}
        margins = self._margins(present)
        thresholds = [float(self.mask_thresholds.get(name, 0.0)) for name in present]
        cw, ch = self.crop_size
        ww, wh = self.working_size
        crops: dict[str, np.ndarray] = {}
        refined: dict[float, list[int]] = {}
        for index, name in enumerate(present):
            upsampling = ww <= cw and wh <= ch and (cw, ch) != (ww, wh)
            if (
                upsampling
                and self.guide is not None
                and self.refine_radius > 0
                and name in REFINED_CLASSES
            ):
                refined.setdefault(GUIDE_SIGMA.get(name, 0.0), []).append(index)
                continue
            margin = margins[index]
            if (cw, ch) != (ww, wh):
                shrink = cv2.INTER_LINEAR if upsampling else cv2.INTER_AREA
                margin = np.asarray(cv2.resize(margin, (cw, ch), interpolation=shrink), np.float32)
            above = cv2.compare(margin, thresholds[index], cv2.CMP_GT)  # type: ignore[call-overload]
            crops[name] = np.asarray(above)
        for sigma, group in refined.items():
            assert self.guide is not None
            masks = guided_masks(
                margins[group],
                self.guide,
                [thresholds[i] for i in group],
                radius=self.refine_radius,
                guide_sigma=sigma,
                block=DEFAULT_BLOCK,
            )
            crops.update({present[i]: mask for i, mask in zip(group, masks, strict=True)})
        support = None
        width, height = self.input_size
        x0, y0 = self.offset
        out: dict[str, np.ndarray] = {}
        for name in present:
            crop = crops[name]
            if name in SUPPORTED_CLASSES and self.root_support is not None:
                if support is None:
                    support = self._support_at_crop_size(self.root_support).view(np.uint8) * 255
                crop = np.asarray(cv2.bitwise_and(crop, support))
            full = np.zeros((height, width), dtype=np.uint8)
            full[y0 : y0 + ch, x0 : x0 + cw] = crop
            out[name] = full
        return out

    def _margins(self, names: Sequence[str]) -> np.ndarray:
        """``(len(names), h, w)`` float32 margins at working size, moved by the map offset.

        ``p(name) - max(other classes)`` for each name, as
        :meth:`margin_at_crop_size` computes it, without copying the other
        classes' maps.
        """
        probs = self.probabilities
        margins = np.empty((len(names), *probs.shape[1:]), dtype=np.float32)
        for row, name in enumerate(names):
            index = self.index(name)
            others = [probs[i] for i in range(len(probs)) if i != index]
            if not others:
                margins[row] = probs[index]
                continue
            best = np.array(others[0], dtype=np.float32)
            for plane in others[1:]:
                np.maximum(best, plane, out=best)
            np.subtract(probs[index], best, out=margins[row], dtype=np.float32)
        return np.asarray(shift_maps(margins, self.map_offset), dtype=np.float32)

    def class_confidence(
        self, names: Sequence[str] = ("root", "shoot", "seed")
    ) -> dict[str, float]:
        """Mean probability of each class over its predicted region (0 when it has none)."""
        present = [name for name in names if name in self.classes]
        return class_confidence(self.probabilities, self.classes, present)


def _model_input(image: np.ndarray, in_channels: int) -> np.ndarray:
    """The image as the model wants it: ``(H, W)`` grey or ``(H, W, 3)`` colour uint8."""
    if in_channels == 1 or (image.ndim == 3 and image.shape[2] == 1):
        image = to_grey(image)
    if in_channels == 1:
        return image
    if in_channels == 3:
        if image.ndim == 2:
            return np.repeat(image[:, :, None], 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3])
    raise ModelError(f"models with {in_channels} input channels are not supported; use 1 or 3")


#: The warning where no dish was looked for, so nothing measured the plate's scale.
_UNMEASURED = (
    "no dish was measured ({what}), so the plate is taken to be at the resolution the "
    "model was trained on; image confidence is lowered"
)


def _resolve_dish(
    image: np.ndarray, dish: Any
) -> tuple[Dish | None, tuple[int, int, int, int], list[str]]:
    """The region to segment, the dish (if any) and warnings."""
    height, width = image.shape[:2]
    whole = (0, 0, width, height)
    if dish is None or dish is False:
        return None, whole, [_UNMEASURED.format(what="the whole image was segmented")]
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
    return None, (x0, y0, x1, y1), [_UNMEASURED.format(what="the box given was segmented")]


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


class _PassAverage:
    """The running mean of TTA passes' probabilities and the spread of their root maps.

    Passes are added one at a time and only sums are kept: the mean of every
    class and, over several passes, the standard deviation of the root
    probability (``sqrt(E[p^2] - E[p]^2)``), which raises the uncertainty map
    where the passes disagree.
    """

    def __init__(self, root_index: int | None, *, several: bool) -> None:
        self.root_index = root_index
        self.several = several
        self.count = 0
        self.passes: list[np.ndarray] = []
        self.sparse: list[SparseStats] = []
        self._total: np.ndarray | None = None
        self._root_sum: np.ndarray | None = None
        self._root_squares: np.ndarray | None = None

    def add(self, probs: np.ndarray) -> None:
        """Add one pass's ``(C, H, W)`` probabilities (flipped back and aligned)."""
        self.count += 1
        self._total = probs if self._total is None else self._total + probs
        if not self.several:
            return
        self.passes.append(probs.astype(np.float16))
        if self.root_index is not None:
            root = probs[self.root_index]
            square = root * root
            self._root_sum = root if self._root_sum is None else self._root_sum + root
            self._root_squares = (
                square if self._root_squares is None else self._root_squares + square
            )

    def mean(self) -> np.ndarray:
        """The passes' mean probabilities (the one pass itself when there is one)."""
        if self._total is None:
            raise ValueError("no pass was added")
        return self._total / np.float32(self.count) if self.count > 1 else self._total

    def root_spread(self) -> np.ndarray | None:
        """``(H, W)`` standard deviation of the root probability across passes, or ``None``."""
        if self._root_sum is None or self._root_squares is None:
            return None
        n = np.float32(self.count)
        variance = np.maximum(self._root_squares / n - (self._root_sum / n) ** 2, 0.0)
        return np.sqrt(variance).astype(np.float32)


def _working_planes(pixels: np.ndarray, scale: float, normalize: tuple[float, float]) -> np.ndarray:
    """The crop resized by ``scale`` and normalised: the model's ``(C_in, h, w)`` input."""
    import cv2

    crop_h, crop_w = pixels.shape[:2]
    work_w, work_h = max(1, round(crop_w * scale)), max(1, round(crop_h * scale))
    if (work_w, work_h) != (crop_w, crop_h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        pixels = cv2.resize(pixels, (work_w, work_h), interpolation=interpolation)
    return _normalise(pixels, normalize)


def _segment_planes(
    run: Runtime, planes: np.ndarray, config: ModelConfig, settings: SegmentSettings
) -> _PassAverage:
    """Every TTA pass of the model over ``planes``, flipped back, aligned and averaged."""
    passes = flips_for(settings.tta)
    classes = tuple(config.classes)
    average = _PassAverage(
        classes.index("root") if "root" in classes else None, several=len(passes) > 1
    )
    tile = _round_up(settings.tile, MULTIPLE)
    sparse = settings.skip_empty and classes[:1] == ("background",)
    for name in passes:
        if sparse:
            probs, stats = run_sparse_pass(
                run,
                flip(planes, name),
                classes=len(classes),
                batch=settings.batch,
                temperature=float(config.temperature),
                multiple=MULTIPLE,
                tile=tile,
                overlap=settings.overlap,
            )
            average.sparse.append(stats)
        else:
            probs = _run_pass(
                run,
                flip(planes, name),
                classes=len(classes),
                tile=tile,
                overlap=settings.overlap,
                batch=settings.batch,
                temperature=float(config.temperature),
            )
        average.add(_align_pass(unflip(probs, name), name, config.map_offset))
    return average


def segment_image(
    model: SavedModel,
    image: np.ndarray,
    settings: SegmentSettings | None = None,
    *,
    dish: Any = "auto",
    dtype: Any = np.float32,
    runtime: Runtime | None = None,
    **overrides: Any,
) -> SegmentationResult:
    """Per-class probability maps of a plate image (see the module docstring).

    Args:
        model: a loaded model (:func:`visionkit.modelfolder.load_model`).
        image: ``uint8`` ``(H, W)`` grey or ``(H, W, 3|4)`` colour.
        settings: how the network is run (:class:`~visionkit.settings.SegmentSettings`:
            runtime, scale, tiles, TTA, mask upsampling); default settings when ``None``.
            Tiles are balanced so a dish needs as few as ``settings.tile``
            allows with the least padding (a half-scale dish: 2 x 2 tiles of
            736), multiples of 32; neighbours share ``overlap`` pixels,
            blended with cosine windows.
        dish: ``"auto"`` (detect and crop), ``None`` (whole image), a
            :class:`~visionkit.data.dish.Dish`, or an ``(x0, y0, x1, y1)`` box.
        dtype: ``np.float32`` or ``np.float16`` for the stored probabilities.
        runtime: a ready runtime to use instead of building ``settings.backend``'s.
        **overrides: single settings to change (``tta=True``, ``tile=512``),
            applied with :meth:`SegmentSettings.replace`, so they are checked too.

    Raises:
        ImageError: ``image`` is not a non-empty uint8 2-D or 3-D array.
        ModelError: the model's output does not fit its config.
        SettingsError: a bad setting (also a ``ValueError``).
    """
    from visionkit.inference.runtime import get_runtime, resolve_backend

    settings = (settings or SegmentSettings()).replace(**overrides)
    image = check_image(image, source="segment_image")
    config = model.config

    start = time.perf_counter()
    given = dish if isinstance(dish, str) else ("none" if dish is None else "given")
    with span("visionkit.dish", dish=given):
        found, (x0, y0, x1, y1), warnings = _resolve_dish(image, dish)
    dish_ms = (time.perf_counter() - start) * 1000.0
    resolution = choose_resolution(config, settings.scale, found)
    scale = resolution.scale
    below = resolution.warning()
    if below is not None:
        warnings.append(below)

    seg_start = time.perf_counter()
    with span("visionkit.segment", scale=scale, tta=str(settings.tta)) as step:
        pixels = _model_input(image, int(config.in_channels))[y0:y1, x0:x1]
        guide = to_grey(pixels) if settings.refine > 0 else None
        crop_h, crop_w = pixels.shape[:2]
        planes = _working_planes(pixels, scale, config.normalize)
        run = runtime or get_runtime(model, settings.backend, threads=settings.threads)
        average = _segment_planes(run, planes, config, settings)
        backend = str(getattr(run, "name", "") or resolve_backend(model, settings.backend))
        step.set_attribute("visionkit.backend", backend)
        step.set_attribute("visionkit.passes", int(average.count))
    seg_ms = (time.perf_counter() - seg_start) * 1000.0
    logger.info(
        "segmented %d x %d px (crop %d x %d at scale %.2f, %d pass(es), %s) in %.0f ms",
        planes.shape[2],
        planes.shape[1],
        crop_w,
        crop_h,
        scale,
        average.count,
        backend,
        seg_ms,
    )
    return SegmentationResult(
        probabilities=average.mean().astype(dtype, copy=False),
        classes=tuple(config.classes),
        offset=(x0, y0),
        crop_size=(crop_w, crop_h),
        input_size=(int(image.shape[1]), int(image.shape[0])),
        scale=scale,
        dish=found,
        disagreement=average.root_spread(),
        passes=average.passes,
        warnings=warnings,
        timing_ms={"dish": dish_ms, "segment": seg_ms},
        backend=backend,
        guide=guide,
        refine_radius=settings.refine,
        mask_thresholds={k: float(v) for k, v in config.mask_thresholds.items()},
        map_offset=(float(config.map_offset[0]), float(config.map_offset[1])),
        resolution=resolution,
        sparse=average.sparse,
    )
