"""Cut training and evaluation patches out of a :class:`HadesDataset`.

Roots cover about one percent of a plate, so uniform random patches would be
almost all agar. :class:`PatchSampler` draws a ``positive_fraction`` of its
training patches around a pixel of the ``classes_of_interest`` (at a random
position inside the patch) and the rest uniformly, optionally only inside the
dish. Training patches are a map-style collection: ``sampler[k]`` depends only
on ``(seed, epoch, k)``, so a torch ``DataLoader`` with workers, or a rerun,
gets exactly the same patches. Patches of one plate are consecutive (plates in
a per-epoch shuffled order), and the last few plates read are cached, so
iterating in order reads each plate once per epoch. :meth:`PatchSampler.preload`
instead reads every plate once, in parallel, and keeps them all: DataLoader
workers forked afterwards share that memory and never touch the disk (the
``cache`` setting of training, like Ultralytics' ``cache=ram``).

:meth:`PatchSampler.grid` gives the deterministic sliding-window patches used
for evaluation, with their positions for stitching predictions back.

numpy only: nothing here imports torch.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from visionkit.data.augment import Augment
from visionkit.data.dataset import HadesDataset
from visionkit.threads import opencv_threads

__all__ = ["Patch", "PatchSampler", "grid_positions"]

logger = logging.getLogger(__name__)


class Patch(NamedTuple):
    """One evaluation patch and where it came from.

    ``(x, y)`` is the patch's top-left corner in the (scaled) plate image;
    parts of the window beyond the image are zero in both arrays.
    """

    image: np.ndarray
    labels: np.ndarray
    stem: str
    x: int
    y: int


@dataclass
class _Plate:
    stem: str
    image: np.ndarray  # float32 [0, 1] or uint8, as the sampler returns
    labels: np.ndarray
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 where patches may lie
    positives: np.ndarray  # flat indices of pixels of interest inside region


def grid_positions(
    size: tuple[int, int],
    patch_size: int,
    stride: int,
    region: tuple[int, int, int, int] | None = None,
) -> list[tuple[int, int]]:
    """Top-left ``(x, y)`` corners of windows that tile ``region`` of an image.

    Windows step by ``stride``; one more window is placed flush with the
    region's right and bottom edges when the steps leave a remainder, so every
    pixel is covered. A region smaller than a patch gets one window at its
    corner (the caller pads).

    Args:
        size: the image's ``(width, height)``.
        patch_size: the window's side.
        stride: the step between windows.
        region: ``(x0, y0, x1, y1)`` to tile; the whole image by default.
    """
    if patch_size <= 0 or stride <= 0:
        raise ValueError(f"patch_size and stride must be positive, got {patch_size}, {stride}")
    width, height = size
    x0, y0, x1, y1 = region if region is not None else (0, 0, width, height)

    def starts(lo: int, hi: int) -> list[int]:
        last = max(lo, hi - patch_size)
        values = list(range(lo, last + 1, stride))
        if values[-1] != last:
            values.append(last)
        return values

    return [(x, y) for y in starts(y0, y1) for x in starts(x0, x1)]


#: The sampler a :meth:`PatchSampler.preload` pool reads for (inherited by fork).
_PRELOADING: PatchSampler | None = None


def _read_plate(index: int) -> _Plate:
    """Read one plate in a preload worker process."""
    assert _PRELOADING is not None, "preload workers are forked from the preloading process"
    return _PRELOADING._read(index)


def _window(array: np.ndarray, x: int, y: int, size: int) -> np.ndarray:
    """``array[y:y+size, x:x+size]``, zero-padded where it leaves the array."""
    height, width = array.shape[:2]
    out = np.zeros((size, size, *array.shape[2:]), dtype=array.dtype)
    ys, xs = max(0, y), max(0, x)
    ye, xe = min(height, y + size), min(width, x + size)
    if ye > ys and xe > xs:
        out[ys - y : ye - y, xs - x : xe - x] = array[ys:ye, xs:xe]
    return out


class PatchSampler:
    """Training and evaluation patches from a dataset (see the module docstring).

    Args:
        dataset: the plates.
        patch_size: side of the square patches, in pixels of the (scaled) plates.
        stride: step of :meth:`grid` windows; ``patch_size`` (no overlap) by default.
        positive_fraction: share of training patches centred near a pixel of
            ``classes_of_interest`` (plates without such pixels give random ones).
        classes_of_interest: classes that make a patch "positive".
        seed: the seed every random draw derives from.
        augment: applied to training patches only; ``None`` applies nothing.
        patches_per_image: training patches drawn from each plate per epoch;
            ``len(sampler)`` is this times the number of plates.
        dish_only: keep patches inside the dish: its bbox from the plate's
            landmarks (``landmarks["dish"]["bbox"]``) or else from
            :func:`~visionkit.data.dish.detect_dish`; the whole image when
            neither finds one.
        dtype: ``"float32"`` (image in [0, 1]) or ``"uint8"``.
        cache_size: plates kept in memory.

    Raises:
        ValueError: a parameter is out of range, or ``classes_of_interest``
            names a class the dataset does not load.
    """

    def __init__(
        self,
        dataset: HadesDataset,
        patch_size: int = 256,
        *,
        stride: int | None = None,
        positive_fraction: float = 0.5,
        classes_of_interest: Sequence[str] = ("root",),
        seed: int = 0,
        augment: Augment | None = None,
        patches_per_image: int = 8,
        dish_only: bool = False,
        dtype: Literal["float32", "uint8"] = "float32",
        cache_size: int = 2,
    ) -> None:
        if patch_size <= 0:
            raise ValueError(f"patch_size must be positive, got {patch_size}")
        if stride is not None and stride <= 0:
            raise ValueError(f"stride must be positive, got {stride}")
        if not 0.0 <= positive_fraction <= 1.0:
            raise ValueError(f"positive_fraction must be in [0, 1], got {positive_fraction}")
        if patches_per_image <= 0 or cache_size <= 0:
            raise ValueError(
                "patches_per_image and cache_size must be positive, got "
                f"{patches_per_image}, {cache_size}"
            )
        if dtype not in ("float32", "uint8"):
            raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
        unknown = [c for c in classes_of_interest if c not in dataset.classes]
        if unknown:
            raise ValueError(
                f"classes_of_interest {unknown} are not loaded by the dataset "
                f"(its classes: {list(dataset.classes)})"
            )
        self.dataset = dataset
        self.patch_size = int(patch_size)
        self.stride = int(stride) if stride is not None else self.patch_size
        self.positive_fraction = float(positive_fraction)
        self.classes_of_interest = tuple(classes_of_interest)
        self.seed = int(seed)
        self.augment = augment
        self.patches_per_image = int(patches_per_image)
        self.dish_only = dish_only
        self.dtype = dtype
        self.cache_size = int(cache_size)
        self.epoch = 0
        self._interest = np.array(
            [dataset.classes.index(c) + 1 for c in self.classes_of_interest], dtype=np.uint8
        )
        self._cache: OrderedDict[int, _Plate] = OrderedDict()

    # -- training patches -------------------------------------------------

    def set_epoch(self, epoch: int) -> None:
        """Draw a different, equally reproducible set of patches for ``epoch``."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset) * self.patches_per_image

    def plate_of(self, k: int) -> int:
        """The dataset index of the plate training patch ``k`` comes from this epoch."""
        order = np.random.default_rng([self.seed, self.epoch, 0x5EED]).permutation(
            len(self.dataset)
        )
        return int(order[k // self.patches_per_image])

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Training patch ``k`` of this epoch: ``(image, labels)``, both ``(P, P)``.

        Raises:
            IndexError: ``k`` is out of range.
        """
        if not 0 <= k < len(self):
            raise IndexError(f"patch index {k} out of range for {len(self)} patches")
        plate = self._plate(self.plate_of(k))
        rng = np.random.default_rng([self.seed, self.epoch, k])
        x, y = self._choose(plate, rng)
        image = _window(plate.image, x, y, self.patch_size)
        labels = _window(plate.labels, x, y, self.patch_size)
        if self.augment is not None:
            image, labels = self._augment(image, labels, rng)
        return image, labels

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for k in range(len(self)):
            yield self[k]

    def _choose(self, plate: _Plate, rng: np.random.Generator) -> tuple[int, int]:
        x0, y0, x1, y1 = plate.region
        size = self.patch_size
        positive = rng.random() < self.positive_fraction
        if positive and plate.positives.size:
            flat = int(plate.positives[rng.integers(plate.positives.size)])
            py, px = divmod(flat, plate.labels.shape[1])
            x = px - int(rng.integers(size))
            y = py - int(rng.integers(size))
        else:
            x = int(rng.integers(x0, max(x0, x1 - size) + 1))
            y = int(rng.integers(y0, max(y0, y1 - size) + 1))
        x = min(max(x, x0), max(x0, x1 - size))
        y = min(max(y, y0), max(y0, y1 - size))
        return x, y

    def _augment(
        self, image: np.ndarray, labels: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        assert self.augment is not None
        if self.dtype == "uint8":
            floats, labels = self.augment(image.astype(np.float32) / 255.0, labels, rng)
            return (floats * 255.0).round().astype(np.uint8), labels
        return self.augment(image, labels, rng)

    # -- evaluation patches -----------------------------------------------

    def grid(self, index: int) -> Iterator[Patch]:
        """Sliding-window patches of plate ``index``, left to right, top to bottom.

        No augmentation; windows step by ``stride`` and cover the whole image
        (or the dish, with ``dish_only``), see :func:`grid_positions`.
        """
        plate = self._plate(index)
        height, width = plate.labels.shape
        for x, y in grid_positions((width, height), self.patch_size, self.stride, plate.region):
            yield Patch(
                image=_window(plate.image, x, y, self.patch_size),
                labels=_window(plate.labels, x, y, self.patch_size),
                stem=plate.stem,
                x=x,
                y=y,
            )

    # -- plate cache ------------------------------------------------------

    @property
    def cached_bytes(self) -> int:
        """Memory held by the cached plates' arrays."""
        return sum(
            p.image.nbytes + p.labels.nbytes + p.positives.nbytes for p in self._cache.values()
        )

    def preload(self, workers: int = 0) -> None:
        """Read every plate now and keep them all in memory.

        Args:
            workers: processes that read plates in parallel (0 or 1 reads in
                this process). They are forked, so the dataset is not copied to
                them; where fork is unavailable the plates are read here.
        """
        count = len(self.dataset)
        self.cache_size = max(self.cache_size, count)
        missing = [i for i in range(count) if i not in self._cache]
        forkable = "fork" in multiprocessing.get_all_start_methods()
        if workers > 1 and len(missing) > 1 and forkable:
            context = multiprocessing.get_context("fork")
            global _PRELOADING
            _PRELOADING = self
            try:
                with (
                    opencv_threads(1),
                    ProcessPoolExecutor(min(workers, len(missing)), mp_context=context) as pool,
                ):
                    for index, plate in zip(missing, pool.map(_read_plate, missing), strict=True):
                        self._cache[index] = plate
            finally:
                _PRELOADING = None
        else:
            for index in missing:
                self._plate(index)
        logger.info("cached %d plates in memory (%.1f MiB)", count, self.cached_bytes / 2**20)

    def _plate(self, index: int) -> _Plate:
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        plate = self._read(index)
        self._cache[index] = plate
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return plate

    def _read(self, index: int) -> _Plate:
        """Plate ``index`` from disk, at the sampler's dtype, with its region and positives."""
        sample = self.dataset[index]
        if self.dtype == "float32":
            image = sample.image.astype(np.float32) / np.float32(255.0)
        else:
            image = sample.image
        labels = sample.labels
        height, width = labels.shape
        region = (0, 0, width, height)
        if self.dish_only:
            region = self._dish_region(sample.image, sample.landmarks, sample.scale, sample.stem)
        x0, y0, x1, y1 = region
        inside = np.zeros(labels.shape, dtype=bool)
        inside[y0:y1, x0:x1] = True
        positives = np.flatnonzero(np.isin(labels, self._interest) & inside)
        return _Plate(sample.stem, image, labels, region, positives)

    @staticmethod
    def _dish_region(
        image: np.ndarray,
        landmarks: dict[str, object] | None,
        scale: float,
        stem: str,
    ) -> tuple[int, int, int, int]:
        height, width = image.shape[:2]
        dish = (landmarks or {}).get("dish")
        bbox = dish.get("bbox") if isinstance(dish, dict) else None
        if isinstance(bbox, list | tuple) and len(bbox) == 4:
            x0, y0, x1, y1 = (round(float(v) * scale) for v in bbox)
        else:
            from visionkit.data.dish import detect_dish

            found = detect_dish(image)
            if not found.found or found.bbox is None:
                logger.warning("%s: no dish found (%s); using the whole image", stem, found.reason)
                return 0, 0, width, height
            x0, y0, x1, y1 = found.bbox
        x0, x1 = max(0, min(x0, width)), max(0, min(x1, width))
        y0, y1 = max(0, min(y0, height)), max(0, min(y1, height))
        if x1 <= x0 or y1 <= y0:
            logger.warning("%s: dish bbox outside the image; using the whole image", stem)
            return 0, 0, width, height
        return x0, y0, x1, y1
