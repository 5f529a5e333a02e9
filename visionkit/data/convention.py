"""The Hades mask convention: which file is an image, which a mask, and of what.

A labelled plate is one image plus one binary mask per class beside it::

    plate_001.png
    plate_001_root_mask.tif
    plate_001_shoot_mask.tif
    plate_001_seed_mask.tif
    plate_001_occluded_root_mask.tif     (optional)
    plate_001.landmarks.json             (optional, e.g. from the synthetic generator)

Masks may also be PNG. Only the top level of a folder is scanned: a data
version is one flat folder, which keeps stems unique and the rules simple.
Hidden files (a leading ``.``, e.g. half-written ``.x.png.part``) are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from visionkit.imageio import IMAGE_SUFFIXES

__all__ = [
    "CLASSES",
    "LANDMARKS_SUFFIX",
    "MASK_SUFFIXES",
    "OPTIONAL_CLASSES",
    "FolderScan",
    "landmarks_name",
    "mask_name",
    "parse_mask_name",
    "scan_folder",
]

#: Every class the convention knows, in label-map order (label = index + 1).
CLASSES: tuple[str, ...] = ("root", "shoot", "seed", "occluded_root")

#: Classes that may be missing for an image; a missing one means "none of it".
OPTIONAL_CLASSES: frozenset[str] = frozenset({"occluded_root"})

#: Suffixes a mask file may have (lower case).
MASK_SUFFIXES: frozenset[str] = frozenset({".tif", ".tiff", ".png"})

#: What follows the stem in a landmarks file's name.
LANDMARKS_SUFFIX = ".landmarks.json"

_MASK_TAIL = "_mask"


def mask_name(stem: str, cls: str, suffix: str = ".tif") -> str:
    """The file name of ``stem``'s mask of class ``cls``, e.g. ``plate_root_mask.tif``."""
    return f"{stem}_{cls}{_MASK_TAIL}{suffix}"


def landmarks_name(stem: str) -> str:
    """The file name of ``stem``'s landmarks, e.g. ``plate.landmarks.json``."""
    return f"{stem}{LANDMARKS_SUFFIX}"


def parse_mask_name(
    name: str,
    *,
    classes: Iterable[str] = CLASSES,
    stems: Iterable[str] = (),
) -> tuple[str, str] | None:
    """Split a mask file name into ``(stem, class)``, or ``None`` if it is no mask.

    Class names are tried longest first, so ``a_occluded_root_mask.tif`` is
    stem ``a`` with class ``occluded_root``, not stem ``a_occluded`` with class
    ``root``; when ``stems`` (the image stems present) is given, a reading whose
    stem is an image wins, so an image called ``a_occluded.png`` still gets its
    root mask.

    A name that ends in ``_mask.<suffix>`` but names no known class returns
    ``("<stem>", "")``: it is a mask file of an unknown class, not an image.
    """
    path = Path(name)
    if path.suffix.lower() not in MASK_SUFFIXES or not path.stem.endswith(_MASK_TAIL):
        return None
    body = path.stem[: -len(_MASK_TAIL)]
    known = set(stems)
    readings = [
        (body[: -len(cls) - 1], cls)
        for cls in sorted(set(classes), key=len, reverse=True)
        if body.endswith(f"_{cls}") and len(body) > len(cls) + 1
    ]
    for stem, cls in readings:
        if stem in known:
            return stem, cls
    if readings:
        return readings[0]
    return body, ""


@dataclass
class FolderScan:
    """What a folder holds, by the convention, before any file is opened.

    Attributes:
        root: the folder scanned.
        images: stem -> image file, sorted by stem.
        masks: stem -> class -> mask file (stems with no image included).
        landmarks: stem -> landmarks file.
        duplicates: human-readable notes on stems or masks given twice.
        ignored_masks: ``*_mask.*`` files of a class not asked for (or unknown).
        others: files that are neither image, mask nor landmarks.
    """

    root: Path
    images: dict[str, Path] = field(default_factory=dict)
    masks: dict[str, dict[str, Path]] = field(default_factory=dict)
    landmarks: dict[str, Path] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    ignored_masks: list[Path] = field(default_factory=list)
    others: list[Path] = field(default_factory=list)

    @property
    def orphan_masks(self) -> dict[str, dict[str, Path]]:
        """Masks whose stem has no image beside them."""
        return {s: m for s, m in self.masks.items() if s not in self.images}

    @property
    def n_masks(self) -> int:
        """How many mask files of the requested classes were found."""
        return sum(len(m) for m in self.masks.values())


def scan_folder(root: str | os.PathLike[str], classes: Sequence[str] = CLASSES) -> FolderScan:
    """Sort the files of ``root`` (top level only) into images, masks and landmarks.

    Masks of a class outside ``classes`` land in ``ignored_masks`` and are
    never mistaken for images.

    Raises:
        NotADirectoryError: ``root`` is not an existing folder.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    scan = FolderScan(root=folder)
    candidates: list[Path] = []
    for path in files:
        if path.name.endswith(LANDMARKS_SUFFIX):
            scan.landmarks[path.name[: -len(LANDMARKS_SUFFIX)]] = path
        elif parse_mask_name(path.name, classes=CLASSES) is not None:
            candidates.append(path)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            stem = path.stem
            if stem in scan.images:
                scan.duplicates.append(
                    f"{path.name} and {scan.images[stem].name} share the stem {stem!r}; "
                    "keep one of them"
                )
                continue
            scan.images[stem] = path
        else:
            scan.others.append(path)
    wanted = set(classes)
    for path in candidates:
        parsed = parse_mask_name(path.name, classes=CLASSES, stems=scan.images)
        assert parsed is not None  # filtered above
        stem, cls = parsed
        if cls not in wanted:
            scan.ignored_masks.append(path)
            continue
        per_stem = scan.masks.setdefault(stem, {})
        if cls in per_stem:
            scan.duplicates.append(
                f"{path.name} and {per_stem[cls].name} are both the {cls} mask of {stem!r}; "
                "keep one of them"
            )
            continue
        per_stem[cls] = path
    return scan
