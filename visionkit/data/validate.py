"""Check a data folder against the Hades mask convention, listing every problem.

:func:`validate_folder` opens every image and mask once and collects all that
is wrong (a missing folder, no images, unreadable files, masks of the wrong
shape or with values other than 0/1 or 0/255, missing and orphan masks, stems
given twice, broken landmarks files) so a user can fix a whole folder in one
pass instead of meeting the problems one training run at a time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visionkit.data.convention import CLASSES, OPTIONAL_CLASSES, mask_name, scan_folder
from visionkit.exceptions import DatasetError, ImageError
from visionkit.imageio import read_image, read_mask

__all__ = ["ValidationReport", "validate_folder"]

logger = logging.getLogger(__name__)


@dataclass
class ValidationReport:
    """What :func:`validate_folder` found.

    Attributes:
        root: the folder checked.
        classes: the classes checked.
        problems: every problem, one line each, naming the file and what to do.
        warnings: things that are allowed but worth a look (ignored files,
            landmarks without an image).
        n_images: images found (readable or not).
        mask_counts: class -> number of mask files found for an image.
        class_pixels: class -> foreground pixels over all readable masks.
        labelled_pixels: pixels of all readable images that have at least one
            readable mask (the denominator of class pixel shares).
    """

    root: Path
    classes: tuple[str, ...]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_images: int = 0
    mask_counts: dict[str, int] = field(default_factory=dict)
    class_pixels: dict[str, int] = field(default_factory=dict)
    labelled_pixels: int = 0

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def n_masks(self) -> int:
        """Mask files found for an image, over all classes."""
        return sum(self.mask_counts.values())

    @property
    def class_shares(self) -> dict[str, float]:
        """Class -> fraction of labelled pixels that belong to it (0 when none)."""
        total = self.labelled_pixels
        return {c: (self.class_pixels.get(c, 0) / total if total else 0.0) for c in self.classes}

    def raise_for_problems(self) -> None:
        """Raise :class:`~visionkit.exceptions.DatasetError` listing every problem, if any."""
        if self.problems:
            raise DatasetError(
                f"{self.root}: {len(self.problems)} problem(s) with the Hades mask convention",
                self.problems,
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "root": str(self.root),
            "ok": self.ok,
            "classes": list(self.classes),
            "images": self.n_images,
            "masks": dict(self.mask_counts),
            "class_shares": self.class_shares,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }


def validate_folder(
    root: str | os.PathLike[str],
    *,
    classes: Sequence[str] = CLASSES,
    require_masks: bool = True,
) -> ValidationReport:
    """Check every file of ``root`` against the convention (see the module docstring).

    Args:
        root: a flat folder of images and masks.
        classes: the classes to check; masks of other classes are ignored
            with a warning.
        require_masks: report an image that lacks a mask of a required class
            (every class but :data:`~visionkit.data.convention.OPTIONAL_CLASSES`).
            Turn off for a folder of bare images to run inference on.

    Returns:
        A report; it never raises for a bad folder (call
        :meth:`ValidationReport.raise_for_problems`).
    """
    folder = Path(root)
    wanted = tuple(classes)
    report = ValidationReport(root=folder, classes=wanted)
    report.mask_counts = dict.fromkeys(wanted, 0)
    report.class_pixels = dict.fromkeys(wanted, 0)
    if not folder.exists():
        report.problems.append(f"{folder}: the folder does not exist; check the path")
        return report
    if not folder.is_dir():
        report.problems.append(f"{folder}: not a folder; pass the folder that holds the images")
        return report
    scan = scan_folder(folder, wanted)
    report.n_images = len(scan.images)
    report.problems.extend(scan.duplicates)
    if not scan.images:
        report.problems.append(
            f"{folder}: no images (PNG, TIFF or JPEG) found; masks alone are not a dataset"
            if scan.masks
            else f"{folder}: the folder holds no images (PNG, TIFF or JPEG)"
        )
    for path in scan.ignored_masks:
        report.warnings.append(f"{path.name}: mask of a class not checked ({', '.join(wanted)})")
    for path in scan.others:
        report.warnings.append(f"{path.name}: neither image, mask nor landmarks; ignored")
    for stem, path in scan.landmarks.items():
        if stem not in scan.images:
            report.warnings.append(f"{path.name}: landmarks for {stem!r}, which has no image")
        _check_landmarks(path, report)

    for stem, masks in scan.orphan_masks.items():
        for cls, path in sorted(masks.items()):
            report.problems.append(
                f"{path.name}: orphan {cls} mask, no image with stem {stem!r} beside it; "
                "add the image or remove the mask"
            )

    for stem, image_path in scan.images.items():
        logger.debug("validating %s", image_path)
        _check_plate(stem, image_path, scan.masks.get(stem, {}), wanted, require_masks, report)
    logger.info(
        "validated %s: %d images, %d masks, %d problem(s)",
        folder,
        report.n_images,
        report.n_masks,
        len(report.problems),
    )
    return report


def _check_landmarks(path: Path, report: ValidationReport) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.problems.append(f"{path.name}: not a readable JSON file ({exc}); rewrite it")
        return
    if not isinstance(data, dict):
        report.problems.append(
            f"{path.name}: landmarks must be a JSON object, found {type(data).__name__}"
        )


def _check_plate(
    stem: str,
    image_path: Path,
    masks: dict[str, Path],
    classes: tuple[str, ...],
    require_masks: bool,
    report: ValidationReport,
) -> None:
    shape: tuple[int, int] | None = None
    try:
        image, _ = read_image(image_path)
        shape = (int(image.shape[0]), int(image.shape[1]))
    except ImageError as exc:
        report.problems.append(f"{image_path.name}: unreadable image: {exc}")
    if require_masks:
        for cls in classes:
            if cls not in masks and cls not in OPTIONAL_CLASSES:
                report.problems.append(
                    f"{image_path.name}: missing {cls} mask; expected "
                    f"{mask_name(stem, cls)} (or .png) beside it"
                )
    any_mask_read = False
    for cls in classes:
        if cls not in masks:
            continue
        path = masks[cls]
        report.mask_counts[cls] += 1
        try:
            mask = read_mask(path)
        except ImageError as exc:
            report.problems.append(f"{path.name}: unusable {cls} mask: {_strip_path(exc, path)}")
            continue
        if shape is not None and mask.shape[:2] != shape:
            report.problems.append(
                f"{path.name}: {cls} mask is {_wxh(mask.shape)} (W x H) but its image "
                f"{image_path.name} is {_wxh(shape)}; masks must match their image pixel for pixel"
            )
            continue
        if shape is not None:
            any_mask_read = True
            report.class_pixels[cls] += int(np.count_nonzero(mask))
    if any_mask_read and shape is not None:
        report.labelled_pixels += shape[0] * shape[1]


def _wxh(shape: Sequence[int]) -> str:
    return f"{shape[1]} x {shape[0]}"


def _strip_path(exc: Exception, path: Path) -> str:
    """The error's message without a leading copy of the path already named."""
    text = str(exc)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
