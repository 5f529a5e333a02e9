"""A folder of Hades plates, read one sample at a time.

:class:`HadesDataset` works for any flat folder in the Hades mask convention
(see :mod:`visionkit.data.convention`), real or synthetic: it lists the
images, pairs each with its masks and optional ``<stem>.landmarks.json``, and
reads a plate only when it is indexed, so a folder of hundreds of 12-Mpx
frames costs nothing until used.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visionkit.data.convention import CLASSES, OPTIONAL_CLASSES, scan_folder
from visionkit.data.labels import masks_to_labels
from visionkit.data.validate import validate_folder
from visionkit.exceptions import DatasetError
from visionkit.imageio import read_image, read_mask

__all__ = ["HadesDataset", "Sample", "resize_image", "resize_mask"]

logger = logging.getLogger(__name__)


@dataclass
class Sample:
    """One plate: its image, masks and what else is known about it.

    Attributes:
        image: ``uint8`` ``(H, W)`` (or ``(H, W, 3)`` for a colour file),
            resized by ``scale``.
        masks: class -> ``uint8`` 0/1 mask of the image's size. Holds every
            class of the dataset whose file exists; a missing optional class
            (``occluded_root``) is an all-zero mask when masks are required,
            and simply absent when they are not.
        stem: the file name without its suffix.
        path: the image file.
        classes: the dataset's classes, in label-map order.
        landmarks: the parsed ``<stem>.landmarks.json``, or ``None``. Its
            coordinates are those of the file, not rescaled by ``scale``.
        scale: the factor the image and masks were resized by.
    """

    image: np.ndarray
    masks: dict[str, np.ndarray]
    stem: str
    path: Path
    classes: tuple[str, ...] = CLASSES
    landmarks: dict[str, Any] | None = None
    scale: float = 1.0
    _labels: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def labels(self) -> np.ndarray:
        """The masks as one label map (see :mod:`visionkit.data.labels`).

        Label ``i + 1`` is ``classes[i]``; 0 is background and also every
        pixel of an image without masks.
        """
        if self._labels is None:
            present = [c for c in self.classes if c in self.masks]
            if present:
                self._labels = masks_to_labels(self.masks, self.classes)
            else:
                self._labels = np.zeros(self.image.shape[:2], dtype=np.uint8)
        return self._labels


def resize_image(image: np.ndarray, scale: float) -> np.ndarray:
    """Resize an image by ``scale``: area averaging down, bilinear up.

    Area averaging keeps thin roots as fainter lines instead of dropping
    every other pixel row the way nearest-neighbour would.
    """
    if scale == 1.0:
        return image
    import cv2

    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=interpolation))


def resize_mask(mask: np.ndarray, scale: float) -> np.ndarray:
    """Resize a 0/1 mask by ``scale`` so it stays aligned with :func:`resize_image`.

    Down: each output pixel is foreground when at least half of the area it
    covers was (area average, then threshold at 0.5). Up: nearest neighbour
    of the pixel centre (``INTER_NEAREST_EXACT``; plain ``INTER_NEAREST`` is
    off the image's grid by up to half a pixel).
    """
    if scale == 1.0:
        return mask
    import cv2

    height, width = mask.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if scale > 1.0:
        return np.ascontiguousarray(
            cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST_EXACT)
        )
    coverage = cv2.resize((mask > 0).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return (coverage >= 0.5).astype(np.uint8)


class HadesDataset:
    """The plates of one folder in the Hades mask convention.

    Args:
        root: a flat folder of images, ``<stem>_<class>_mask.tif|png`` masks
            and optional ``<stem>.landmarks.json`` files.
        classes: which masks to load, in label-map order.
        scale: resize factor applied when a sample is read (e.g. 0.5 to train
            at half resolution); images by area averaging, masks by area
            coverage >= 0.5.
        require_masks: every image must have a mask of each required class;
            ``False`` lets a folder of bare images (for inference) load.
        validate: check every file up front with
            :func:`~visionkit.data.validate.validate_folder` and raise one
            :class:`~visionkit.exceptions.DatasetError` listing all problems.
            Without it only the folder's listing is checked and a bad file
            fails when its sample is read.

    Raises:
        DatasetError: the folder is missing or holds no images; with
            ``validate`` any problem in any file; with ``require_masks`` and
            without ``validate`` a missing required mask.
        ValueError: ``scale`` is not positive or ``classes`` is empty or unknown.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        classes: Sequence[str] = CLASSES,
        scale: float = 1.0,
        require_masks: bool = True,
        validate: bool = True,
    ) -> None:
        self.root = Path(root)
        self.classes: tuple[str, ...] = tuple(classes)
        unknown = [c for c in self.classes if c not in CLASSES]
        if not self.classes or unknown or len(set(self.classes)) != len(self.classes):
            raise ValueError(
                f"classes must be distinct names among {list(CLASSES)}, got {list(classes)}"
            )
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale = float(scale)
        self.require_masks = require_masks
        if validate:
            validate_folder(
                self.root, classes=self.classes, require_masks=require_masks
            ).raise_for_problems()
        try:
            scan = scan_folder(self.root, self.classes)
        except NotADirectoryError as exc:
            raise DatasetError(f"{self.root}: not an existing folder; check the path") from exc
        if not scan.images:
            raise DatasetError(f"{self.root}: the folder holds no images (PNG, TIFF or JPEG)")
        if require_masks and not validate:
            missing = [
                f"{path.name}: missing {cls} mask"
                for stem, path in scan.images.items()
                for cls in self.classes
                if cls not in OPTIONAL_CLASSES and cls not in scan.masks.get(stem, {})
            ]
            if missing:
                raise DatasetError(f"{self.root}: images without their masks", missing)
        self._images = scan.images
        self._masks = {stem: scan.masks.get(stem, {}) for stem in scan.images}
        self._landmarks = scan.landmarks
        self._stems: list[str] = list(scan.images)
        logger.debug("%s: %d plates", self.root, len(self._stems))

    @property
    def stems(self) -> list[str]:
        """The plates' stems, sorted; ``dataset[i]`` is plate ``stems[i]``."""
        return list(self._stems)

    def __len__(self) -> int:
        return len(self._stems)

    def __repr__(self) -> str:
        return (
            f"HadesDataset({str(self.root)!r}, plates={len(self)}, "
            f"classes={self.classes}, scale={self.scale})"
        )

    def __iter__(self) -> Iterator[Sample]:
        for index in range(len(self)):
            yield self[index]

    def index(self, stem: str) -> int:
        """The position of plate ``stem``.

        Raises:
            KeyError: no plate has that stem.
        """
        try:
            return self._stems.index(stem)
        except ValueError:
            raise KeyError(f"{self.root}: no plate with stem {stem!r}") from None

    def subset(self, stems: Sequence[str]) -> HadesDataset:
        """The plates named by ``stems``, in that order, as a dataset of their own.

        Nothing is re-scanned or re-validated: the subset shares this
        dataset's files, classes and scale (e.g. a train/validation split).

        Raises:
            KeyError: a stem names no plate of this dataset.
        """
        missing = [stem for stem in stems if stem not in self._images]
        if missing:
            raise KeyError(f"{self.root}: no plate with stem {missing[0]!r}")
        view = copy.copy(self)
        view._stems = list(stems)
        return view

    def image_path(self, index: int) -> Path:
        """The image file of plate ``index`` (cheap: nothing is read)."""
        return self._images[self._stems[index]]

    def landmarks(self, index: int) -> dict[str, Any] | None:
        """Plate ``index``'s ``<stem>.landmarks.json`` (cheap: the image is not read), or ``None``.

        Raises:
            DatasetError: the file is not a readable JSON object.
        """
        return self._read_landmarks(self._stems[index])

    def __getitem__(self, index: int) -> Sample:
        """Read plate ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` is out of range.
            ImageReadError: a file of this plate cannot be read.
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f"plate index {index} out of range for {len(self)} plates")
        stem = self._stems[index]
        image, _ = read_image(self._images[stem])
        image = resize_image(image, self.scale)
        masks: dict[str, np.ndarray] = {}
        for cls in self.classes:
            path = self._masks[stem].get(cls)
            if path is not None:
                masks[cls] = resize_mask(read_mask(path), self.scale)
            elif self.require_masks:
                masks[cls] = np.zeros(image.shape[:2], dtype=np.uint8)
        for cls, mask in masks.items():
            if mask.shape != image.shape[:2]:
                raise DatasetError(
                    f"{self._masks[stem][cls].name}: {cls} mask is {mask.shape[1]} x "
                    f"{mask.shape[0]} but {self._images[stem].name} is {image.shape[1]} x "
                    f"{image.shape[0]} (W x H after scale {self.scale}); fix the mask"
                )
        return Sample(
            image=image,
            masks=masks,
            stem=stem,
            path=self._images[stem],
            classes=self.classes,
            landmarks=self._read_landmarks(stem),
            scale=self.scale,
        )

    def _read_landmarks(self, stem: str) -> dict[str, Any] | None:
        path = self._landmarks.get(stem)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{path}: not a readable landmarks JSON file ({exc})") from exc
        if not isinstance(data, dict):
            raise DatasetError(f"{path}: landmarks must be a JSON object")
        return data
