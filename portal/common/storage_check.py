"""Is the portal's file storage there and writable? Checked once at deployment, not per request.

``manage.py check_storage`` calls :func:`check_default_storage` before a
rollout (the image's ``migrate`` role and ``web`` with ``VISIONKIT_MIGRATE=1``
do): a missing Blob container or a credential without write access then stops
the deployment with a clear message, instead of the first upload failing. With
``create=True`` a missing Blob container is created (Azurite in
``compose.yaml``, a new storage account).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from portal.common.errors import PortalError

__all__ = ["check_default_storage"]

logger = logging.getLogger(__name__)

#: Where the write probe goes; removed again at once.
PROBE_PREFIX = ".visionkit-probe"


def _describe(storage: Storage) -> str:
    container = getattr(storage, "azure_container", None)
    if container is not None:
        account = getattr(storage, "account_name", None) or "the connection string's account"
        location = getattr(storage, "location", "") or ""
        under = f", under {location}/" if location else ""
        return f"Blob container {container!r} of {account}{under}"
    return f"{type(storage).__name__} at {getattr(storage, 'location', '?')}"


def _ensure_container(storage: Any, *, create: bool) -> bool:
    """Whether the Blob container was created; raises if it is missing and may not be."""
    from azure.core.exceptions import ResourceExistsError

    client = storage.client
    if client.exists():
        return False
    if not create:
        raise PortalError(
            f"{_describe(storage)} does not exist; create it (az storage container create) "
            "or run manage.py check_storage --create"
        )
    try:
        client.create_container()
    except ResourceExistsError:  # another replica made it meanwhile
        return False
    logger.info("created %s", _describe(storage))
    return True


def check_default_storage(*, create: bool = False) -> str:
    """Check ``storages["default"]`` by writing, reading and deleting a probe; a summary line.

    Raises:
        PortalError: the container is missing (and ``create`` is false), or the
            storage refuses the probe (the message names the storage, never a secret).
    """
    storage = storages["default"]
    created = False
    try:
        if getattr(storage, "azure_container", None) is not None:
            created = _ensure_container(storage, create=create)
        name = storage.save(f"{PROBE_PREFIX}/{uuid.uuid4().hex}.txt", ContentFile(b"probe"))
        try:
            with storage.open(name, "rb") as handle:
                if handle.read() != b"probe":
                    raise PortalError(f"{_describe(storage)} returned other bytes than written")
        finally:
            storage.delete(name)
    except PortalError:
        raise
    except Exception as exc:  # the Azure SDK and OSError both: say which storage failed
        raise PortalError(
            f"{_describe(storage)} refused a write/read/delete probe: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    made = "created, " if created else ""
    return f"{_describe(storage)}: {made}write, read and delete ok"
