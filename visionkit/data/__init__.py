"""Data folders in the Hades mask convention: read, check, split, patch, version.

- :mod:`~visionkit.data.convention`: which file is an image, which a mask.
- :mod:`~visionkit.data.validate`: every problem of a folder in one report.
- :mod:`~visionkit.data.dataset`: :class:`HadesDataset`, one plate at a time.
- :mod:`~visionkit.data.labels`: masks <-> label map, with overlap priority.
- :mod:`~visionkit.data.dish`: find and crop the petri dish, estimate mm/px.
- :mod:`~visionkit.data.patches`, :mod:`~visionkit.data.augment`: training patches.
- :mod:`~visionkit.data.splits`: train/val/test by image (or plate group).
- :mod:`~visionkit.data.manifest`: data versions with file hashes.

Importing this package loads numpy only; OpenCV is imported when first needed.
"""

from __future__ import annotations

from visionkit.data.augment import Augment
from visionkit.data.convention import CLASSES, OPTIONAL_CLASSES, mask_name, parse_mask_name
from visionkit.data.dataset import HadesDataset, Sample
from visionkit.data.dish import (
    DISH_MM,
    Dish,
    crop_dish,
    crop_to_original,
    detect_dish,
    original_to_crop,
)
from visionkit.data.labels import LABEL_PRIORITY, labels_to_masks, masks_to_labels
from visionkit.data.manifest import Manifest, build_manifest
from visionkit.data.patches import Patch, PatchSampler, grid_positions
from visionkit.data.splits import group_by_regex, split_by_image
from visionkit.data.validate import ValidationReport, validate_folder

__all__ = [
    "CLASSES",
    "DISH_MM",
    "LABEL_PRIORITY",
    "OPTIONAL_CLASSES",
    "Augment",
    "Dish",
    "HadesDataset",
    "Manifest",
    "Patch",
    "PatchSampler",
    "Sample",
    "ValidationReport",
    "build_manifest",
    "crop_dish",
    "crop_to_original",
    "detect_dish",
    "grid_positions",
    "group_by_regex",
    "labels_to_masks",
    "mask_name",
    "masks_to_labels",
    "original_to_crop",
    "parse_mask_name",
    "split_by_image",
    "validate_folder",
]
