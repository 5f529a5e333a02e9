"""SHA-256 of files read in chunks, and the temporary name a download is written to."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["CHUNK", "part_path", "sha256_path"]

#: Read and write in 1 MiB pieces: a 12-bit TIFF stack never sits in memory.
CHUNK = 1 << 20


def sha256_path(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's content (the same digest data manifests record)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def part_path(path: Path) -> Path:
    """Where a download of ``path`` is written until verified: a hidden ``.name.part`` beside it.

    Hidden, so data manifests and the file sources never take it for a file
    of the folder; kept after an interrupted download, so the next one resumes.
    """
    return path.with_name(f".{path.name}.part")
