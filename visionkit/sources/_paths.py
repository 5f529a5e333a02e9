"""Which files in a folder or glob are frames: the one place that decides.

The rules, shared by the ``folder``, ``glob`` and ``hades`` sources:

- only files with an image suffix (:data:`visionkit.imageio.IMAGE_SUFFIXES`,
  any case) are frames; any other file is skipped with one warning each;
- mask files (``<stem>_root_mask.tif``, ``<stem>_mask.png``...) are training
  labels, not frames: skipped silently (:func:`is_mask_file`);
- hidden files and folders (name starting with ``.``, e.g. ``.DS_Store`` or
  a half-written ``.plate.png.part``) are skipped silently;
- the data folder's own sidecars, ``<stem>.landmarks.json`` and
  ``manifest.json`` (see :mod:`visionkit.data`), are skipped silently;
- the rest is sorted in natural order, so ``plate_2`` comes before ``plate_10``.

Listing reads no pixels: sources open each file only when its frame is due.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from pathlib import Path

from visionkit.exceptions import SourceNotFoundError
from visionkit.imageio import IMAGE_SUFFIXES
from visionkit.sources._uri import looks_like_glob

__all__ = [
    "MASK_MARKER",
    "find_frames",
    "glob_frames",
    "is_mask_file",
    "list_folder",
    "list_glob",
    "natural_key",
]

logger = logging.getLogger("visionkit.sources")

#: A file whose stem ends with this (any case) is a label, not a frame.
MASK_MARKER = "_mask"

_DIGITS = re.compile(r"(\d+)")


def is_mask_file(path: str | os.PathLike[str]) -> bool:
    """True for an image file whose stem ends in ``_mask`` (a training label).

    >>> is_mask_file("035_plate_03_root_mask.tif"), is_mask_file("035_plate_03.png")
    (True, False)
    """
    file = Path(path)
    return file.suffix.lower() in IMAGE_SUFFIXES and file.stem.lower().endswith(MASK_MARKER)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value: ``img2`` before ``img10``."""
    parts: list[tuple[int, int | str]] = []
    for piece in _DIGITS.split(text):
        if piece.isdigit():
            parts.append((0, int(piece)))
        elif piece:
            parts.append((1, piece.lower()))
    return tuple(parts)


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _is_sidecar(path: Path) -> bool:
    """Ground-truth and manifest files that live beside Hades images."""
    name = path.name.lower()
    return name.endswith(".landmarks.json") or name == "manifest.json"


def _frames_among(candidates: list[Path], *, warn: bool) -> list[Path]:
    """Keep image files that are not masks; warn once for each non-image file."""
    kept = []
    for path in candidates:
        if _is_hidden(path) or not path.is_file() or is_mask_file(path) or _is_sidecar(path):
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            if warn:
                logger.warning(
                    "skipping %s: %s is not an image suffix (%s)",
                    path,
                    path.suffix or "no suffix",
                    ", ".join(sorted(IMAGE_SUFFIXES)),
                )
            continue
        kept.append(path)
    return kept


def list_folder(folder: Path, *, recursive: bool = False, warn: bool = True) -> list[Path]:
    """The frame files in ``folder`` (and its sub-folders if ``recursive``), sorted.

    Args:
        folder: an existing directory.
        recursive: descend into sub-folders (hidden ones excepted).
        warn: log one warning per skipped non-image file.
    """
    if recursive:
        candidates: list[Path] = []
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            candidates.extend(Path(root) / name for name in files)
    else:
        candidates = list(folder.iterdir())
    kept = _frames_among(candidates, warn=warn)
    return sorted(kept, key=lambda p: natural_key(p.relative_to(folder).as_posix()))


def list_glob(pattern: str, *, warn: bool = True) -> list[Path]:
    """The frame files a glob pattern matches (``**`` spans folders), sorted."""
    matches = [Path(m) for m in glob.glob(os.path.expanduser(pattern), recursive=True)]
    return sorted(_frames_among(matches, warn=warn), key=lambda p: natural_key(p.as_posix()))


def glob_frames(pattern: str, *, warn: bool = True) -> list[Path]:
    """Like :func:`list_glob`, but an empty result is an error.

    Raises:
        SourceNotFoundError: the pattern matches no image file.
    """
    found = list_glob(pattern, warn=warn)
    if not found:
        raise SourceNotFoundError(
            f"glob {pattern!r} matches no image files (masks excluded); check the pattern, "
            f"and quote it so the shell does not expand it"
        )
    return found


def find_frames(uri: str, *, recursive: bool = False, warn: bool = True) -> tuple[str, list[Path]]:
    """Resolve a file, folder or glob to its frame files.

    Returns:
        ``(kind, paths)`` with kind ``"file"``, ``"folder"`` or ``"glob"``.
        A single file is returned as given, even a mask: the caller named it.

    Raises:
        SourceNotFoundError: the path does not exist, or names no images.
    """
    path = Path(uri).expanduser()
    if path.is_file():
        return "file", [path]
    if path.is_dir():
        found = list_folder(path, recursive=recursive, warn=warn)
        if not found:
            hint = "" if recursive else ", or pass recursive=True to look in sub-folders"
            raise SourceNotFoundError(
                f"{path}: folder holds no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))}"
                f", masks excluded); copy the plate images there{hint}"
            )
        return "folder", found
    if looks_like_glob(uri):
        return "glob", glob_frames(uri, warn=warn)
    raise SourceNotFoundError(
        f"{path}: no such file or folder (relative paths start at {Path.cwd()}); check the path"
    )
