"""Files in the portal's storage (``STORAGES["default"]``): stored all together, or removed.

Every service that keeps files (model folders, data sets, job outputs,
predictions) writes them through :func:`store_files`, which leaves nothing
behind when one file fails, and cleans up after a failed transaction with
:func:`remove_files`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from django.core.files import File
from django.core.files.storage import storages

__all__ = ["files_under", "remove_files", "store_files"]

logger = logging.getLogger(__name__)


def store_files(root: Path, prefix: str, paths: Iterable[str] | None = None) -> list[str]:
    """Copy files of ``root`` into storage under ``prefix``; returns the stored names.

    ``paths`` are relative to ``root`` (default: every file below it). A file
    left at a target by an attempt that died before its clean-up is replaced.
    If any copy fails, the ones already stored are removed before the error goes on.
    """
    storage = storages["default"]
    if paths is None:
        paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    stored: list[str] = []
    try:
        for rel in paths:
            target = f"{prefix}/{rel}"
            if storage.exists(target):
                storage.delete(target)
            with (root / rel).open("rb") as handle:
                stored.append(storage.save(target, File(handle, name=Path(rel).name)))
    except BaseException:
        remove_files(stored)
        raise
    return stored


def remove_files(names: Iterable[str]) -> None:
    """Delete stored files, logging (never raising) when the storage refuses."""
    storage = storages["default"]
    for stored in names:
        try:
            storage.delete(stored)
        except OSError:  # pragma: no cover - a storage that fails even to delete
            logger.exception("could not remove %s", stored)


def files_under(prefix: str) -> list[str]:
    """Every stored name below the folder ``prefix`` (none if it does not exist)."""
    storage = storages["default"]
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:  # a local folder never made; Blob lists nothing instead
        return []
    names = [f"{prefix}/{name}" for name in files]
    for folder in folders:
        names.extend(files_under(f"{prefix}/{folder}"))
    return names
