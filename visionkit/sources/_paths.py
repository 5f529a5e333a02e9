"""Which files in a folder or glob are frames: the one place that decides.

The rules, shared by the ``folder``, ``glob`` and ``hades`` sources:

- only files with an image suffix (:data:`visionkit.imageio.IMAGE_SUFFIXES`,
  any case) are frames; other files are skipped, and one warning per listing
  says how many and names them;
- a folder listed without ``recursive`` skips its sub-folders, and the same
  warning counts them and says how to read them;
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
from dataclasses import dataclass
from pathlib import Path

from visionkit.exceptions import SourceNotFoundError
from visionkit.imageio import IMAGE_SUFFIXES
from visionkit.sources._uri import looks_like_glob

__all__ = [
    "MASK_MARKER",
    "RECURSIVE_HINT",
    "Skipped",
    "find_frames",
    "glob_frames",
    "is_mask_file",
    "list_glob",
    "natural_key",
    "scan_folder",
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


@dataclass(frozen=True)
class Skipped:
    """What a listing left out that a person may have meant to include.

    Masks, hidden files and sidecars are not counted: they are never frames,
    so leaving them out is not news.

    Attributes:
        non_images: files without an image suffix.
        sub_folders: folders not descended into (a listing without ``recursive``).
    """

    non_images: tuple[Path, ...] = ()
    sub_folders: tuple[Path, ...] = ()

    def message(self, where: str) -> str | None:
        """One line saying how many files were skipped and why; ``None`` if none were."""
        parts, reasons = [], []
        if self.non_images:
            parts.append(f"{_count(self.non_images, 'non-image file')} ({_names(self.non_images)})")
            reasons.append(f"only {', '.join(sorted(IMAGE_SUFFIXES))} files are images")
        if self.sub_folders:
            parts.append(f"{_count(self.sub_folders, 'sub-folder')} ({_names(self.sub_folders)})")
            reasons.append(f"sub-folders are read with {RECURSIVE_HINT}")
        if not parts:
            return None
        return f"{where}: skipped {' and '.join(parts)}: {'; '.join(reasons)}"


#: How to read sub-folders too, for Python callers and the command line alike.
RECURSIVE_HINT = "recursive=True (visionkit predict --recursive)"


def _count(paths: tuple[Path, ...], noun: str) -> str:
    return f"{len(paths)} {noun}{'' if len(paths) == 1 else 's'}"


def _names(paths: tuple[Path, ...], shown: int = 3) -> str:
    names = [path.name for path in paths[:shown]]
    if len(paths) > shown:
        names.append(f"{len(paths) - shown} more")
    return ", ".join(names)


def _frames_among(candidates: list[Path]) -> tuple[list[Path], list[Path]]:
    """``(frames, non-image files)`` among ``candidates``; masks, hidden files, sidecars dropped."""
    kept, non_images = [], []
    for path in candidates:
        if _is_hidden(path) or not path.is_file() or is_mask_file(path) or _is_sidecar(path):
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            non_images.append(path)
            continue
        kept.append(path)
    return kept, non_images


def scan_folder(folder: Path, *, recursive: bool = False) -> tuple[list[Path], Skipped]:
    """The frame files in ``folder``, sorted, and what was skipped (:class:`Skipped`).

    Reads no pixels and logs nothing; :func:`find_frames` warns about the skipped files.

    Args:
        folder: an existing directory.
        recursive: descend into sub-folders (hidden ones excepted).
    """
    sub_folders: list[Path] = []
    if recursive:
        candidates: list[Path] = []
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            candidates.extend(Path(root) / name for name in files)
    else:
        candidates = list(folder.iterdir())
        sub_folders = [p for p in candidates if p.is_dir() and not _is_hidden(p)]
    kept, non_images = _frames_among(candidates)

    def order(path: Path) -> tuple[tuple[int, int | str], ...]:
        return natural_key(path.relative_to(folder).as_posix())

    skipped = Skipped(tuple(sorted(non_images, key=order)), tuple(sorted(sub_folders, key=order)))
    return sorted(kept, key=order), skipped


def list_glob(pattern: str, *, warn: bool = True) -> list[Path]:
    """The frame files a glob pattern matches (``**`` spans folders), sorted."""
    matches = [Path(m) for m in glob.glob(os.path.expanduser(pattern), recursive=True)]
    kept, non_images = _frames_among(matches)
    message = Skipped(tuple(sorted(non_images, key=lambda p: natural_key(p.as_posix())))).message(
        f"glob {pattern!r}"
    )
    if warn and message:
        logger.warning(message)
    return sorted(kept, key=lambda p: natural_key(p.as_posix()))


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
        found, skipped = scan_folder(path, recursive=recursive)
        if not found:
            hint = ""
            if skipped.sub_folders:
                hint = (
                    f", or read its {_count(skipped.sub_folders, 'sub-folder')} "
                    f"({_names(skipped.sub_folders)}) with {RECURSIVE_HINT}"
                )
            raise SourceNotFoundError(
                f"{path}: folder holds no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))}"
                f", masks excluded); copy the plate images there{hint}"
            )
        message = skipped.message(str(path))
        if warn and message:
            logger.warning(message)
        return "folder", found
    if looks_like_glob(uri):
        return "glob", glob_frames(uri, warn=warn)
    raise SourceNotFoundError(
        f"{path}: no such file or folder (relative paths start at {Path.cwd()}); check the path"
    )
