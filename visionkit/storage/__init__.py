"""Where data set versions, model folders and artifacts are kept: a folder or Blob Storage.

One small interface, :class:`~visionkit.storage.base.Storage` (files by
relative key, with size and sha256), two implementations:

- :class:`~visionkit.storage.local.LocalStorage`: a local folder, the default;
- :class:`~visionkit.storage.blob.BlobStorage`: a container and prefix in
  Azure Blob Storage (``azure-storage-blob``, imported only when opened);

:func:`open_storage` picks one from a URL (``azblob://container/prefix`` or a
path) and :func:`storage_from_settings` from ``VISIONKIT_STORAGE``.
:func:`push_folder` and :func:`pull_folder` move a data set version by its
manifest (or a model folder file by file), skipping files already there,
resuming killed transfers and verifying every sha256 (``visionkit data push``
and ``visionkit data pull``).
"""

from __future__ import annotations

from visionkit.storage.base import PutResult, Storage, StoredObject
from visionkit.storage.local import LocalStorage
from visionkit.storage.open import open_storage, parse_azblob_url, storage_from_settings
from visionkit.storage.transfer import TransferReport, pull_folder, push_folder

__all__ = [
    "LocalStorage",
    "PutResult",
    "Storage",
    "StoredObject",
    "TransferReport",
    "open_storage",
    "parse_azblob_url",
    "pull_folder",
    "push_folder",
    "storage_from_settings",
]
