"""Which Azure Blob account and credential to use, from the environment alone.

In this order (the first that is set wins):

1. ``AZURE_STORAGE_CONNECTION_STRING``: account, endpoint and key or SAS in one
   (Azurite's, or one copied from the portal's "Access keys");
2. ``AZURE_STORAGE_ACCOUNT_URL`` (or ``AZURE_STORAGE_ACCOUNT``, the account
   name, for ``https://<name>.blob.core.windows.net``) with
   ``AZURE_STORAGE_SAS_TOKEN`` (a SAS with read, write, list, delete on the
   container) or ``AZURE_STORAGE_KEY`` (the account key);
3. the account URL alone: ``DefaultAzureCredential`` (a managed identity, the
   ``AZURE_CLIENT_*`` variables, or ``az login``), from ``azure-identity``.

Secrets are read here and handed to the SDK; they never reach a log line or
an error message, which name the account URL only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from visionkit.exceptions import StorageError

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

__all__ = [
    "ENV_ACCOUNT",
    "ENV_ACCOUNT_URL",
    "ENV_CONNECTION_STRING",
    "ENV_KEY",
    "ENV_SAS_TOKEN",
    "service_client",
]

logger = logging.getLogger(__name__)

ENV_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
ENV_ACCOUNT_URL = "AZURE_STORAGE_ACCOUNT_URL"
ENV_ACCOUNT = "AZURE_STORAGE_ACCOUNT"
ENV_SAS_TOKEN = "AZURE_STORAGE_SAS_TOKEN"
ENV_KEY = "AZURE_STORAGE_KEY"

#: Retries per request before an error, backing off 1, 3 and 5 s.
RETRIES = 3


def _get(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _account_url(environ: Mapping[str, str]) -> str:
    url = _get(environ, ENV_ACCOUNT_URL)
    if url:
        return url.rstrip("/")
    account = _get(environ, ENV_ACCOUNT)
    return f"https://{account}.blob.core.windows.net" if account else ""


def _account_name(url: str) -> str:
    """The account in an account URL: its path (emulators) or its first host label."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    return path.split("/")[0] if path else (parts.hostname or "").split(".")[0]


def service_client(environ: Mapping[str, str] | None = None) -> tuple[BlobServiceClient, str]:
    """A Blob service client from the environment, and its account URL (for messages).

    Raises:
        StorageError: nothing says which account to use, or the connection
            string is malformed.
    """
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    env = os.environ if environ is None else environ
    # The SDK's default waits 15 s, then 18 s, 24 s...: a minute and more before an error.
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=RETRIES)
    options: dict[str, Any] = {"retry_policy": retry}
    connection_string = _get(env, ENV_CONNECTION_STRING)
    if connection_string:
        try:
            client = BlobServiceClient.from_connection_string(connection_string, **options)
        except ValueError as exc:
            raise StorageError(
                f"{ENV_CONNECTION_STRING} is not a valid connection string "
                f"({type(exc).__name__}); copy it again from the storage account's access keys"
            ) from None
        logger.debug("Blob Storage %s: connection string", client.url)
        return client, client.url.rstrip("/")
    url = _account_url(env)
    if not url:
        raise StorageError(
            f"no Blob Storage account configured: set {ENV_CONNECTION_STRING}, or "
            f"{ENV_ACCOUNT_URL} (or {ENV_ACCOUNT}) with {ENV_SAS_TOKEN}, {ENV_KEY} "
            f"or an identity DefaultAzureCredential finds (managed identity, az login)"
        )
    sas, key = _get(env, ENV_SAS_TOKEN), _get(env, ENV_KEY)
    credential: object
    if sas:
        credential, how = sas.lstrip("?"), "SAS token"
    elif key:
        credential, how = {"account_name": _account_name(url), "account_key": key}, "account key"
    else:
        from azure.identity import DefaultAzureCredential

        credential, how = DefaultAzureCredential(), "DefaultAzureCredential"
    logger.debug("Blob Storage %s: %s", url, how)
    return BlobServiceClient(url, credential=credential, **options), url
