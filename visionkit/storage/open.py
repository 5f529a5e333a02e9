"""Open a storage from a URL or from the ``VISIONKIT_STORAGE`` setting.

==============================  ==========================================
``azblob://container/prefix``   Azure Blob Storage (credentials from the
                                environment: :mod:`visionkit.storage.credentials`)
``file:///abs/folder``          a local folder
``folder/`` (no scheme)         a local folder, relative to the current one
==============================  ==========================================

``VISIONKIT_STORAGE`` names the one :func:`storage_from_settings` opens; unset,
it is the local folder ``storage/`` in the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from visionkit.exceptions import StorageError
from visionkit.storage.base import Storage
from visionkit.storage.local import LocalStorage

__all__ = [
    "AZBLOB_SCHEME",
    "DEFAULT_LOCAL",
    "ENV_STORAGE",
    "is_azblob_url",
    "open_storage",
    "parse_azblob_url",
    "storage_from_settings",
]

AZBLOB_SCHEME = "azblob"
ENV_STORAGE = "VISIONKIT_STORAGE"
#: Where files go when ``VISIONKIT_STORAGE`` is not set.
DEFAULT_LOCAL = "storage"


def is_azblob_url(url: str) -> bool:
    """True for ``azblob://...``."""
    return url.lower().startswith(f"{AZBLOB_SCHEME}://")


def parse_azblob_url(url: str) -> tuple[str, str]:
    """``azblob://container/some/prefix`` -> ``("container", "some/prefix")``.

    Raises:
        StorageError: not an azblob URL, or the container name is not valid
            (3-63 lower-case letters, digits and single hyphens).
    """
    if not is_azblob_url(url):
        raise StorageError(f"{url!r} is not an azblob:// URL; give azblob://container/prefix")
    parts = urlsplit(url)
    container = parts.netloc
    prefix = unquote(parts.path).strip("/")
    valid = (
        3 <= len(container) <= 63
        and container.replace("-", "").isalnum()
        and container == container.lower()
        and not container.startswith("-")
        and not container.endswith("-")
        and "--" not in container
    )
    if not valid:
        raise StorageError(
            f"{url!r}: {container!r} is not a Blob container name: use 3-63 lower-case "
            f"letters, digits and single hyphens, e.g. azblob://plates/hades-1"
        )
    return container, prefix


def open_storage(
    url: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    block_size: int | None = None,
    create_container: bool = False,
) -> Storage:
    """The storage ``url`` names.

    Args:
        url: ``azblob://container/prefix``, ``file:///folder`` or a local path.
        environ: where Azure credentials are read (default :data:`os.environ`).
        block_size: bytes per uploaded block (Blob Storage only).
        create_container: create a missing Blob container instead of failing.

    Raises:
        StorageError: an unknown scheme, a bad container name, or no Azure
            account configured.
    """
    text = os.fspath(url)
    if is_azblob_url(text):
        from visionkit.storage.blob import DEFAULT_BLOCK_SIZE, BlobStorage
        from visionkit.storage.credentials import service_client

        container, prefix = parse_azblob_url(text)
        service, account_url = service_client(environ)
        storage = BlobStorage(
            service.get_container_client(container), prefix,
            account_url=account_url, block_size=block_size or DEFAULT_BLOCK_SIZE,
        )  # fmt: skip
        if create_container:
            storage.create_container()
        return storage
    parts = urlsplit(text)
    if parts.scheme == "file":
        return LocalStorage(unquote(parts.path))
    if "://" in text:
        raise StorageError(
            f"{text!r}: unknown storage scheme {parts.scheme!r}; give azblob://container/prefix, "
            f"file:///folder or a local folder"
        )
    return LocalStorage(text)


def storage_from_settings(environ: Mapping[str, str] | None = None) -> Storage:
    """The storage ``VISIONKIT_STORAGE`` names (default: the local folder ``storage/``)."""
    env = os.environ if environ is None else environ
    return open_storage(env.get(ENV_STORAGE, "").strip() or DEFAULT_LOCAL, environ=env)
