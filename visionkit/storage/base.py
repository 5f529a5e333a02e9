"""What every storage is: files by relative key, with their size and sha256.

A *key* is a relative path with ``/`` separators (``plates/plate_001.png``),
the same in a local folder and in a Blob container under its prefix. Keys
that climb out (``..``), start at the root or hold backslashes are refused,
so a manifest pulled from elsewhere can never write outside its folder.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable

from visionkit.exceptions import StorageError

__all__ = ["PutResult", "Storage", "StoredObject", "check_key", "join_key"]


@dataclass(frozen=True)
class StoredObject:
    """One stored file.

    Attributes:
        key: relative to the storage's root or prefix.
        size: bytes.
        sha256: the content's hex digest as recorded with the file (Blob
            metadata), or ``None`` when the storage keeps no record (a local
            folder computes it on demand with :meth:`Storage.sha256`).
        modified: when it was last written (UTC), if known.
    """

    key: str
    size: int
    sha256: str | None = None
    modified: _dt.datetime | None = None


@dataclass(frozen=True)
class PutResult:
    """What one :meth:`Storage.put_file` did.

    Attributes:
        key: the file's key.
        size: bytes of the file.
        sha256: its digest, now recorded with it.
        skipped: the same content was already stored: nothing was sent.
        bytes_sent: bytes sent this time (less than ``size`` after a resume).
        blocks_sent: blocks staged this time (Blob Storage; 0 or 1 elsewhere).
        blocks_reused: blocks a killed earlier attempt had staged, not sent again.
    """

    key: str
    size: int
    sha256: str
    skipped: bool = False
    bytes_sent: int = 0
    blocks_sent: int = 0
    blocks_reused: int = 0


@runtime_checkable
class Storage(Protocol):
    """Files by relative key: a local folder or a Blob Storage container and prefix.

    Writes are atomic from a reader's point of view: a file appears whole or
    not at all. Reads into a local path go to a temporary file renamed into
    place once its sha256 is verified.
    """

    #: Where the files are, for messages (never holds a secret).
    url: str

    def stat(self, key: str) -> StoredObject | None:
        """The stored file at ``key``, or ``None`` if there is none."""
        ...

    def exists(self, key: str) -> bool:
        """True if a file is stored at ``key``."""
        ...

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every file whose key starts with ``prefix``, sorted by key."""
        ...

    def sha256(self, key: str) -> str | None:
        """The file's sha256 (recorded or computed), or ``None`` if there is no file."""
        ...

    def put_file(
        self, key: str, path: str | os.PathLike[str], *, sha256: str | None = None
    ) -> PutResult:
        """Store the local file ``path`` at ``key``; skip it when the same content is there."""
        ...

    def get_file(
        self, key: str, path: str | os.PathLike[str], *, sha256: str | None = None
    ) -> StoredObject:
        """Fetch ``key`` into ``path``, verified against ``sha256`` (or the recorded one).

        Raises:
            IntegrityError: the content's sha256 differs; ``path`` is left untouched.
        """
        ...

    def read_bytes(self, key: str) -> bytes:
        """The whole content of ``key``."""
        ...

    def write_bytes(self, key: str, data: bytes) -> PutResult:
        """Store ``data`` at ``key`` (replacing what was there)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is not there."""
        ...


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key, else a :class:`StorageError` saying why."""
    path = PurePosixPath(key)
    if (
        not key
        or "\\" in key
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in key.split("/"))
        or path.is_absolute()
    ):
        raise StorageError(
            f"{key!r} is not a storage key: give a relative path with '/' separators "
            f"and no '..', e.g. plates/plate_001.png"
        )
    return key


def join_key(prefix: str, key: str) -> str:
    """``prefix/key`` (either may be empty), without doubled slashes."""
    prefix = prefix.strip("/")
    return f"{prefix}/{key}" if prefix and key else prefix or key
