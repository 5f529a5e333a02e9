"""Torch datasets over the data layer: training patches and validation windows.

:func:`build_training_data` checks the folders (one
:class:`~visionkit.exceptions.DatasetError` listing every problem), records
their data versions, holds out validation plates by image when no separate
folder is given, and wraps :class:`~visionkit.data.PatchSampler` for torch:

- :class:`PatchDataset`: training patch ``k`` of an epoch, zoomed by a random
  factor (scale jitter), normalised, as tensors. Like the sampler it depends
  only on ``(seed, epoch, k)``, so DataLoader workers and resumed runs see
  exactly the same patches.
- :class:`BlockShuffleSampler`: the order patches are visited in; shuffled
  within blocks of a few plates, so a batch mixes plates while each plate is
  still read from disk once per epoch. It can start part-way through an
  epoch, which is how an interrupted run resumes at the very next batch.
- :func:`iter_val_batches`: the deterministic sliding windows of validation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from visionkit.data import Augment, HadesDataset, Patch, PatchSampler, split_by_image
from visionkit.exceptions import DatasetError
from visionkit.training.config import TrainConfig

__all__ = [
    "BlockShuffleSampler",
    "PatchDataset",
    "TrainingData",
    "build_training_data",
    "iter_val_batches",
    "to_input",
]

logger = logging.getLogger(__name__)

#: Plates whose patches are shuffled together (and kept in the sampler's cache).
PLATES_PER_BLOCK = 4


def to_input(image: np.ndarray, normalize: tuple[float, float]) -> np.ndarray:
    """A float image in [0, 1] as the network's normalised grey input ``(1, H, W)``.

    Colour images are averaged to grey (Hades plates are grey; RGB copies
    have R = G = B).
    """
    grey = image.mean(axis=2) if image.ndim == 3 else image
    mean, std = normalize
    return ((grey.astype(np.float32) - np.float32(mean)) / np.float32(std))[None]


class PatchDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Training patches as ``(image (1, P, P) float32, labels (P, P) uint8)`` tensors.

    Labels travel as ``uint8`` (an eighth of ``int64``'s bytes through the
    DataLoader's shared memory and the copy to the GPU); the loss widens them.

    Args:
        sampler: draws windows of ``window`` pixels (``>= patch_size``).
        patch_size: the side of the returned patches.
        scale_jitter: each patch is a random ``patch_size / s`` square of the
            window, ``s`` uniform in ``[1 - jitter, 1 + jitter]``, resized to
            ``patch_size`` (image bilinear, labels nearest).
        normalize: ``(mean, std)`` of the input.
        length: patches per epoch (at most ``len(sampler)``).
    """

    def __init__(
        self,
        sampler: PatchSampler,
        patch_size: int,
        *,
        scale_jitter: float = 0.0,
        normalize: tuple[float, float] = (0.5, 0.25),
        length: int | None = None,
    ) -> None:
        if sampler.patch_size < patch_size:
            raise ValueError(
                f"the sampler's windows ({sampler.patch_size} px) must be at least "
                f"patch_size ({patch_size} px)"
            )
        self.sampler = sampler
        self.patch_size = int(patch_size)
        self.scale_jitter = float(scale_jitter)
        self.normalize = normalize
        self.length = min(len(sampler), length) if length is not None else len(sampler)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch``'s patches (reproducibly)."""
        self.epoch = int(epoch)
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, labels = self.sampler[k]
        image, labels = self._jitter(image, labels, k)
        return torch.from_numpy(to_input(image, self.normalize)), torch.from_numpy(
            labels.astype(np.uint8, copy=False)
        )

    def _jitter(
        self, image: np.ndarray, labels: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        size, window = self.patch_size, self.sampler.patch_size
        if window == size and not self.scale_jitter:
            return image, labels
        import cv2

        rng = np.random.default_rng([self.sampler.seed, self.epoch, k, 0x5CA1E])
        zoom = rng.uniform(1.0 - self.scale_jitter, 1.0 + self.scale_jitter)
        side = int(min(window, max(1, round(size / zoom))))
        x = int(rng.integers(0, window - side + 1))
        y = int(rng.integers(0, window - side + 1))
        image = np.ascontiguousarray(image[y : y + side, x : x + side])
        labels = np.ascontiguousarray(labels[y : y + side, x : x + side])
        if side != size:
            image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
            # INTER_NEAREST maps output pixel x to input floor(x * scale), half a
            # pixel off the grid INTER_LINEAR uses; the _EXACT variant samples
            # pixel centres, so labels stay on the image.
            labels = cv2.resize(labels, (size, size), interpolation=cv2.INTER_NEAREST_EXACT)
        return image, labels


class BlockShuffleSampler(Sampler[int]):
    """Patch indices ``0..length-1`` of an epoch, shuffled within blocks of ``block``.

    The order depends only on ``(seed, epoch)``. :meth:`start_at` skips the
    first indices of the epoch (for resuming mid-epoch).
    """

    def __init__(self, length: int, block: int, seed: int) -> None:
        self.length = int(length)
        self.block = max(1, int(block))
        self.seed = int(seed)
        self.epoch = 0
        self.offset = 0

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order, from its start."""
        self.epoch = int(epoch)
        self.offset = 0

    def start_at(self, offset: int) -> None:
        """Skip the first ``offset`` indices of this epoch."""
        self.offset = max(0, int(offset))

    def order(self) -> list[int]:
        """This epoch's whole order."""
        rng = np.random.default_rng([self.seed, self.epoch, 0xB10C])
        out: list[int] = []
        for start in range(0, self.length, self.block):
            chunk = np.arange(start, min(start + self.block, self.length))
            out.extend(int(i) for i in rng.permutation(chunk))
        return out

    def __iter__(self) -> Iterator[int]:
        return iter(self.order()[self.offset :])

    def __len__(self) -> int:
        return max(0, self.length - self.offset)


@dataclass
class TrainingData:
    """Everything :func:`~visionkit.training.loop.train` reads.

    Attributes:
        train: the training patches.
        order: the order they are visited in.
        val_sampler: validation windows (see :func:`iter_val_batches`).
        data_version: manifest version of ``data_dir``.
        val_version: manifest version of ``val_dir``, or ``None`` when held out.
        train_stems: training plates.
        val_stems: validation plates.
    """

    train: PatchDataset
    order: BlockShuffleSampler
    val_sampler: PatchSampler
    data_version: str
    val_version: str | None
    train_stems: list[str]
    val_stems: list[str]


def _open_folder(folder: str, config: TrainConfig) -> tuple[HadesDataset, str]:
    """Validate ``folder`` once, version it, and open it at the working scale."""
    from visionkit.data import build_manifest, validate_folder

    path = Path(folder)
    if not path.is_dir():
        raise DatasetError(f"{path}: no such data folder; give a folder of Hades-convention plates")
    report = validate_folder(path, classes=config.data_classes, require_masks=True)
    if report.n_images == 0:
        raise DatasetError(
            f"{path}: the folder holds no images; give a folder of plates with "
            "<stem>_root_mask.tif etc. beside them "
            "(e.g. `visionkit synth --out DIR --n 8 --seed 1`)",
            report.problems,
        )
    report.raise_for_problems()
    manifest = build_manifest(path, classes=config.data_classes, report=report)
    dataset = HadesDataset(
        path,
        classes=config.data_classes,
        scale=config.scale / config.data_scale,
        validate=False,
    )
    return dataset, manifest.version


#: How far (relative) a folder's measured resolution may stray from ``data_scale``'s.
DATA_SCALE_TOLERANCE = 0.25


def _check_data_scale(dataset: HadesDataset, config: TrainConfig) -> None:
    """Warn when the plates' own ``mm_per_px`` disagrees with ``data_scale``.

    ``data_scale`` says how the folder's resolution compares with a Hades
    frame (:data:`~visionkit.data.dish.NOMINAL_PX_PER_MM`); landmark files
    (as ``visionkit synth`` writes them) record each plate's ``dish.mm_per_px``.
    A wrong ``data_scale`` trains the model at the wrong resolution, so the
    warning names both figures and the ``data_scale`` the plates imply.
    """
    from visionkit.data.dish import NOMINAL_PX_PER_MM

    measured = []
    for index in range(min(len(dataset), 8)):
        dish = (dataset.landmarks(index) or {}).get("dish") or {}
        value = dish.get("mm_per_px") if isinstance(dish, dict) else None
        if isinstance(value, int | float) and value > 0:
            measured.append(float(value))
    if not measured:
        return
    px_per_mm = 1.0 / float(np.median(measured))
    implied = px_per_mm / NOMINAL_PX_PER_MM
    if abs(implied / config.data_scale - 1.0) > DATA_SCALE_TOLERANCE:
        logger.warning(
            "%s: its plates' landmarks say %.3f mm/px (%.1f px/mm, data scale %.2f), but "
            "data_scale is %g (%.1f px/mm): the model would train at the wrong resolution; "
            "pass --data-scale %.2f",
            config.data_dir,
            1.0 / px_per_mm,
            px_per_mm,
            implied,
            config.data_scale,
            NOMINAL_PX_PER_MM * config.data_scale,
            implied,
        )


def build_training_data(config: TrainConfig) -> TrainingData:
    """Open, check, version and split the data of ``config`` (see the module docstring).

    Raises:
        DatasetError: a folder is missing, empty or breaks the convention
            (every problem listed), or too few plates to hold some out.
    """
    full, version = _open_folder(config.data_dir, config)
    _check_data_scale(full, config)
    val_version: str | None = None
    if config.val_dir is not None:
        train_ds: HadesDataset = full
        val_ds, val_version = _open_folder(config.val_dir, config)
    else:
        fraction = config.val_fraction
        split = split_by_image(
            full.stems, (1.0 - fraction, fraction), config.split_seed, names=("train", "val")
        )
        if not split["train"] or not split["val"]:
            raise DatasetError(
                f"{config.data_dir}: {len(full)} plate(s) cannot be split into training and "
                f"validation at val_fraction={fraction}; add plates or give a --val folder"
            )
        train_ds = full.subset(split["train"])
        val_ds = full.subset(split["val"])
    window = config.patch_size
    if config.scale_jitter:
        window = math.ceil(config.patch_size / (1.0 - config.scale_jitter))
    per_image = math.ceil(config.patches_per_epoch / len(train_ds))
    sampler = PatchSampler(
        train_ds,
        window,
        positive_fraction=config.positive_fraction,
        classes_of_interest=("root",),
        seed=config.seed,
        augment=Augment() if config.augment else None,
        patches_per_image=per_image,
        dish_only=config.dish_only,
        cache_size=PLATES_PER_BLOCK,
    )
    patches = PatchDataset(
        sampler,
        config.patch_size,
        scale_jitter=config.scale_jitter,
        normalize=config.normalize,
        length=config.patches_per_epoch,
    )
    # With every plate in memory a block can be the whole epoch: a full shuffle.
    block = len(patches) if config.cache else per_image * PLATES_PER_BLOCK
    order = BlockShuffleSampler(len(patches), block, config.seed)
    val_sampler = PatchSampler(
        val_ds,
        config.patch_size,
        stride=config.patch_size,
        seed=config.seed,
        dish_only=config.dish_only,
        patches_per_image=1,
    )
    if config.cache:
        sampler.preload(config.num_workers)
        val_sampler.preload(config.num_workers)
    logger.info(
        "data: %d training plates, %d validation plates, version %s",
        len(train_ds),
        len(val_ds),
        version[:12],
    )
    return TrainingData(
        train=patches,
        order=order,
        val_sampler=val_sampler,
        data_version=version,
        val_version=val_version,
        train_stems=train_ds.stems,
        val_stems=val_ds.stems,
    )


def iter_val_batches(
    sampler: PatchSampler, batch_size: int, normalize: tuple[float, float]
) -> Iterator[tuple[torch.Tensor, torch.Tensor, list[Patch]]]:
    """Every validation window of every plate, ``batch_size`` at a time.

    Yields ``(images (B, 1, P, P), labels (B, P, P), patches)``.
    """
    batch: list[Patch] = []
    for index in range(len(sampler.dataset)):
        for patch in sampler.grid(index):
            batch.append(patch)
            if len(batch) == batch_size:
                yield _stack(batch, normalize)
                batch = []
    if batch:
        yield _stack(batch, normalize)


def _stack(
    batch: list[Patch], normalize: tuple[float, float]
) -> tuple[torch.Tensor, torch.Tensor, list[Patch]]:
    images = np.stack([to_input(p.image, normalize) for p in batch])
    labels = np.stack([p.labels.astype(np.int64) for p in batch])
    return torch.from_numpy(images), torch.from_numpy(labels), batch
