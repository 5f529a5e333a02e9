"""The export cache: where ONNX exports of models are kept, what it holds, and pruning it.

A model that runs on ONNX Runtime and carries no export in its folder is
exported once per weights into ``$VISIONKIT_CACHE/onnx`` (and, for
``onnx-int8``, quantised there too), in files named after the weights'
sha256. Nothing else ever removes them, so a machine that serves one model
after another (a portal worker through automated retraining, a lab that
fine-tunes often) collects one float and one 8-bit graph per model version:
about 15 MiB a version for the default architecture.

:func:`entries` lists the files and what each is; :func:`prune` removes the
ones nothing will read again:

- **stale**: a format this release never reads (the dynamic ``-int8``
  files of earlier releases, another opset);
- **partial**: an interrupted export or quantisation (``.part`` and
  ``.pre.onnx`` files) older than :data:`PARTIAL_AGE_S`, so a write in
  progress in another process is left alone;
- with ``unused_days``, also exports not used for that long: a runtime built
  from a cached file marks it used (its modification time), so the models a
  machine serves stay.

A pruned export is simply built again the next time its model runs. Files
the cache does not name are never touched.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENV_CACHE",
    "OPSET",
    "PARTIAL_AGE_S",
    "CacheEntry",
    "cache_dir",
    "cache_file_name",
    "entries",
    "mark_used",
    "prune",
]

logger = logging.getLogger(__name__)

#: The environment variable naming the cache's root folder.
ENV_CACHE = "VISIONKIT_CACHE"

#: ONNX opset of exported models.
OPSET = 17

#: An unfinished write younger than this (seconds) may still be running.
PARTIAL_AGE_S = 3600.0

_EXPORT = re.compile(
    r"^(?P<key>[0-9a-f]{32})-opset(?P<opset>\d+)(?P<suffix>(-int8)?(-qdq)?)\.onnx$"
)
_PARTIAL = re.compile(r"^\..+\.onnx\.\d+\.(part|pre\.onnx)$")


def cache_dir() -> Path:
    """The export cache: ``$VISIONKIT_CACHE/onnx``, else ``~/.cache/visionkit/onnx``."""
    root = os.environ.get(ENV_CACHE)
    base = Path(root) if root else Path.home() / ".cache" / "visionkit"
    return base / "onnx"


def cache_file_name(key: str, *, int8: bool = False) -> str:
    """The cached export's file name for weights whose sha256 starts with ``key``."""
    # "-qdq": static quantisation; earlier releases cached dynamic "-int8" files.
    return f"{key[:32]}-opset{OPSET}{'-int8-qdq' if int8 else ''}.onnx"


@dataclass(frozen=True)
class CacheEntry:
    """One file of the export cache.

    Attributes:
        path: the file.
        kind: ``onnx`` or ``onnx-int8`` (an export this release runs),
            ``stale`` (a format it never reads) or ``partial`` (an
            unfinished write).
        weights: the first 32 hex digits of the weights' sha256, when the
            name says.
        size: bytes.
        used: when it was last built or run (seconds since the epoch).
    """

    path: Path
    kind: str
    weights: str | None
    size: int
    used: float


def _kind(name: str) -> tuple[str, str | None] | None:
    """``(kind, weights)`` of a cache file's name, or None for a file the cache did not write."""
    if _PARTIAL.match(name):
        return "partial", None
    found = _EXPORT.match(name)
    if not found:
        return None
    key, suffix = found["key"], found["suffix"]
    if int(found["opset"]) != OPSET or suffix not in ("", "-int8-qdq"):
        return "stale", key
    return ("onnx-int8" if suffix else "onnx"), key


def entries(folder: Path | None = None) -> list[CacheEntry]:
    """The cache's files (those it names), least recently used first."""
    root = folder or cache_dir()
    if not root.is_dir():
        return []
    found: list[CacheEntry] = []
    for path in root.iterdir():
        kind = _kind(path.name)
        if kind is None or not path.is_file():
            continue
        info = path.stat()
        found.append(CacheEntry(path, kind[0], kind[1], info.st_size, info.st_mtime))
    return sorted(found, key=lambda entry: (entry.used, entry.path.name))


def mark_used(path: Path) -> None:
    """Record that a cached export was run now, so pruning by age keeps it.

    Best effort: a read-only cache (a shared, prepared one) is left as it is.
    """
    try:
        os.utime(path)
    except OSError as exc:
        logger.debug("cannot mark %s used: %s", path, exc)


def prune(
    folder: Path | None = None,
    *,
    unused_days: float | None = None,
    everything: bool = False,
    dry_run: bool = False,
    now: float | None = None,
) -> list[CacheEntry]:
    """Remove the cache files nothing will read again; return them (see the module docstring).

    Args:
        unused_days: also remove exports not used for this many days.
        everything: remove every file the cache names (younger partial
            files excepted: another process may be writing them).
        dry_run: only say what would go.
        now: the time to measure ages from (default: now).

    Raises:
        ValueError: ``unused_days`` is negative.
    """
    if unused_days is not None and unused_days < 0:
        raise ValueError(f"unused_days must be >= 0, got {unused_days}")
    clock = time.time() if now is None else now

    def goes(entry: CacheEntry) -> bool:
        age = clock - entry.used
        if entry.kind == "partial":
            return age > PARTIAL_AGE_S
        unused = unused_days is not None and age > unused_days * 86400.0
        return everything or entry.kind == "stale" or unused

    doomed = [entry for entry in entries(folder) if goes(entry)]
    if dry_run:
        return doomed
    removed = []
    for entry in doomed:
        try:
            entry.path.unlink()
        except FileNotFoundError:
            continue  # another process pruned it first
        removed.append(entry)
        logger.info("removed %s (%s, %.1f MiB)", entry.path, entry.kind, entry.size / 2**20)
    return removed
