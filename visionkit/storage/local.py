"""A local folder as a storage: the default, needing nothing installed.

Writes go to a hidden temporary file beside the target and are renamed into
place, so a reader sees the old file or the new one, never half of one.
A local folder keeps no sha256 record: :meth:`LocalStorage.sha256` reads the file.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shutil
from pathlib import Path

from visionkit.exceptions import IntegrityError, StorageError
from visionkit.storage._digest import part_path, sha256_path
from visionkit.storage.base import PutResult, StoredObject, check_key

__all__ = ["LocalStorage"]

logger = logging.getLogger(__name__)


class LocalStorage:
    """Files below a local folder (created on first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        self.url = str(self.root)

    def __repr__(self) -> str:
        return f"<LocalStorage {self.url!r}>"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def stat(self, key: str) -> StoredObject | None:
        """The file at ``key``, or ``None``."""
        path = self._path(key)
        if not path.is_file():
            return None
        info = path.stat()
        modified = _dt.datetime.fromtimestamp(info.st_mtime, tz=_dt.UTC)
        return StoredObject(key=key, size=info.st_size, modified=modified)

    def exists(self, key: str) -> bool:
        """True if a file is stored at ``key``."""
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every file below the root whose key starts with ``prefix``; hidden files left out."""
        if not self.root.is_dir():
            return []
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    stored = self.stat(key)
                    if stored is not None:
                        found.append(stored)
        return sorted(found, key=lambda o: o.key)

    def sha256(self, key: str) -> str | None:
        """The file's sha256, computed from its content; ``None`` if there is no file."""
        path = self._path(key)
        return sha256_path(path) if path.is_file() else None

    def put_file(
        self, key: str, path: str | os.PathLike[str], *, sha256: str | None = None
    ) -> PutResult:
        """Copy ``path`` to ``key`` unless the same content is there already."""
        source = Path(path)
        digest = sha256 or sha256_path(source)
        size = source.stat().st_size
        target = self._path(key)
        if target.is_file() and target.stat().st_size == size and sha256_path(target) == digest:
            return PutResult(key=key, size=size, sha256=digest, skipped=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = part_path(target)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return PutResult(key=key, size=size, sha256=digest, bytes_sent=size, blocks_sent=1)

    def get_file(
        self, key: str, path: str | os.PathLike[str], *, sha256: str | None = None
    ) -> StoredObject:
        """Copy ``key`` to ``path`` through a temporary file, verified against ``sha256``.

        Raises:
            StorageError: no file at ``key``.
            IntegrityError: its content differs from ``sha256``.
        """
        stored = self.stat(key)
        if stored is None:
            raise StorageError(f"{self.url}: no file {key!r}; check the key or push it first")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = part_path(target)
        shutil.copyfile(self._path(key), tmp)
        got = sha256_path(tmp)
        if sha256 is not None and got != sha256:
            tmp.unlink()
            raise IntegrityError(
                f"{self.url}/{key}: content sha256 {got[:12]}... differs from the recorded "
                f"{sha256[:12]}...; the stored copy is corrupt, push it again",
                key=key,
            )
        os.replace(tmp, target)
        return StoredObject(key=key, size=stored.size, sha256=got, modified=stored.modified)

    def read_bytes(self, key: str) -> bytes:
        """The content of ``key``.

        Raises:
            StorageError: no file at ``key``.
        """
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"{self.url}: no file {key!r}; check the key or push it first")
        return path.read_bytes()

    def write_bytes(self, key: str, data: bytes) -> PutResult:
        """Store ``data`` at ``key`` through a temporary file."""
        import hashlib

        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = part_path(target)
        tmp.write_bytes(data)
        os.replace(tmp, target)
        digest = hashlib.sha256(data).hexdigest()
        return PutResult(key=key, size=len(data), sha256=digest, bytes_sent=len(data))

    def delete(self, key: str) -> None:
        """Remove ``key`` if it is there."""
        self._path(key).unlink(missing_ok=True)
