"""Data versions: a manifest of every file in a data folder, and one hash for all.

:func:`build_manifest` records each file's relative path, size and SHA-256
(read in 1 MiB chunks, so a 12-bit TIFF stack never sits in memory), the
image and mask counts, and each class's share of the labelled pixels. Its
``version`` is the SHA-256 of the canonical JSON (sorted keys, no spaces) of
the sorted ``[path, size, sha256]`` list only: the same bytes give the same
version on any machine and at any time, and any added, removed, renamed or
changed file gives a new one. The creation time is recorded but not hashed.

The manifest file itself (``manifest.json`` at the top, by default) and
hidden files are left out, so writing the manifest does not change the version.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from visionkit.data.convention import CLASSES
from visionkit.data.validate import ValidationReport, validate_folder

__all__ = [
    "MANIFEST_NAME",
    "FileEntry",
    "Manifest",
    "build_manifest",
    "data_version",
    "sha256_file",
]

logger = logging.getLogger(__name__)

#: Where ``visionkit data manifest`` writes by default, inside the data folder.
MANIFEST_NAME = "manifest.json"

_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """One file of a data version.

    Attributes:
        path: relative to the data folder, with ``/`` separators.
        size: bytes.
        sha256: hex digest of the content.
    """

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    """A data version: what :func:`build_manifest` found.

    Attributes:
        root: the folder described (not part of the version).
        version: SHA-256 of the canonical file list (see the module docstring).
        files: every file, sorted by path.
        n_images: images in the folder.
        n_masks: mask files of the counted classes.
        mask_counts: class -> mask files.
        class_shares: class -> foreground pixels over all pixels of the
            images that have masks (overlapping classes count in each).
        created_at: when the manifest was built (UTC, ISO 8601).
        problems: what validation found (empty for a clean folder).
    """

    root: str
    version: str
    files: list[FileEntry]
    n_images: int
    n_masks: int
    mask_counts: dict[str, int]
    class_shares: dict[str, float]
    created_at: str
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def to_json(self) -> str:
        """Pretty JSON text, ending in a newline."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the manifest as JSON (to a temporary file first, then renamed)."""
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.part")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, file)
        return file

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Manifest:
        """Load a manifest written by :meth:`write`.

        Raises:
            ValueError: the file is not a manifest.
        """
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            data["files"] = [FileEntry(**entry) for entry in data["files"]]
            return cls(**data)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{file}: not a visionkit data manifest ({exc})") from exc


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def data_version(files: Sequence[FileEntry]) -> str:
    """The version hash of a file list (order does not matter)."""
    rows = sorted([f.path, f.size, f.sha256] for f in files)
    canonical = json.dumps(rows, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _list_files(root: Path, exclude: set[Path]) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath, name)
            if name.startswith(".") or path.resolve() in exclude or not path.is_file():
                continue
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def build_manifest(
    root: str | os.PathLike[str],
    *,
    classes: Sequence[str] = CLASSES,
    require_masks: bool = True,
    validate: bool = True,
    exclude: Sequence[str | os.PathLike[str]] = (),
    report: ValidationReport | None = None,
) -> Manifest:
    """Describe every file under ``root`` as a data version.

    Args:
        root: the data folder; files in sub-folders are listed too.
        classes: classes whose masks are counted.
        require_masks: passed to the validation.
        validate: raise :class:`~visionkit.exceptions.DatasetError` listing
            every problem instead of describing a broken folder.
        exclude: more files to leave out; ``root/manifest.json`` always is.
        report: a validation of ``root`` already made (saves reading every
            image again).

    Raises:
        DatasetError: with ``validate``, the folder breaks the convention.
    """
    folder = Path(root)
    if report is None:
        report = validate_folder(folder, classes=classes, require_masks=require_masks)
    if validate:
        report.raise_for_problems()
    skip = {(folder / MANIFEST_NAME).resolve(), *(Path(p).resolve() for p in exclude)}
    entries = []
    paths = _list_files(folder, skip) if folder.is_dir() else []
    for index, path in enumerate(paths, 1):
        entries.append(
            FileEntry(
                path=path.relative_to(folder).as_posix(),
                size=path.stat().st_size,
                sha256=sha256_file(path),
            )
        )
        if index % 100 == 0:
            logger.info("hashed %d/%d files", index, len(paths))
    manifest = Manifest(
        root=str(folder),
        version=data_version(entries),
        files=entries,
        n_images=report.n_images,
        n_masks=report.n_masks,
        mask_counts=dict(report.mask_counts),
        class_shares=report.class_shares,
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        problems=list(report.problems),
    )
    logger.info("%s: data version %s (%d files)", folder, manifest.version[:12], len(entries))
    return manifest
