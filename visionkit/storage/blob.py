"""Azure Blob Storage as a storage: a container and a prefix in it.

Uploads are block blobs built from blocks staged one by one and committed in
one call (``stage_block`` then ``commit_block_list``), so a reader never sees
a half-sent file: until the commit, the blob does not exist (or keeps its old
content). Block ids are made from the file's sha256 and the block's index,
so an upload killed part way is resumed by asking which blocks the service
already holds uncommitted (``get_block_list``) and sending only the others.
Each block goes with its MD5 (checked by the service); the whole file's
sha256 is kept as the blob's ``sha256`` metadata, so a later push skips an
unchanged file without reading the blob and a pull verifies what it got.

Downloads go to a hidden ``.name.part`` file beside the target and are
renamed into place only once their sha256 matches; an interrupted download
resumes from the part file's length.

``azure-storage-blob`` is imported when a storage is opened, never at
``import visionkit``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import mimetypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from visionkit.exceptions import IntegrityError, StorageError
from visionkit.storage._digest import part_path, sha256_path
from visionkit.storage.base import PutResult, StoredObject, check_key, join_key

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, ContainerClient

__all__ = ["DEFAULT_BLOCK_SIZE", "METADATA_SHA256", "BlobStorage"]

logger = logging.getLogger(__name__)

#: Bytes per staged block: a Hades PNG (about 6 MB) is two blocks.
DEFAULT_BLOCK_SIZE = 4 << 20

#: The blob metadata key that holds the content's sha256.
METADATA_SHA256 = "sha256"

T = TypeVar("T")


class BlobStorage:
    """Files in one Blob container, below ``prefix``.

    Args:
        container: an ``azure.storage.blob.ContainerClient``.
        prefix: the folder inside the container (may be empty).
        account_url: for messages (never holds a secret).
        block_size: bytes per staged block.
    """

    def __init__(
        self,
        container: ContainerClient,
        prefix: str = "",
        *,
        account_url: str = "",
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> None:
        if block_size < 1:
            raise StorageError(f"block_size={block_size} must be at least 1 byte")
        self.container = container
        self.prefix = prefix.strip("/")
        self.account_url = account_url or container.url.rsplit("/", 1)[0]
        self.block_size = block_size
        self.url = "azblob://" + join_key(container.container_name, self.prefix)

    def __repr__(self) -> str:
        return f"<BlobStorage {self.url!r} at {self.account_url}>"

    # -- errors -------------------------------------------------------------

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """Run one SDK call; turn its errors into :class:`StorageError` a person can act on."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
            ServiceRequestError,
        )

        try:
            return action()
        except ResourceNotFoundError as exc:
            if _code(exc) == "ContainerNotFound":
                raise StorageError(
                    f"{self.url}: container {self.container.container_name!r} does not exist in "
                    f"{self.account_url}; create it (az storage container create --name "
                    f"{self.container.container_name}) or check the name"
                ) from None
            raise StorageError(f"{self.url}: {what}: not found ({_code(exc)})") from None
        except ClientAuthenticationError as exc:
            raise self._refused(what, exc) from None
        except HttpResponseError as exc:
            if exc.status_code in (401, 403):
                raise self._refused(what, exc) from None
            raise StorageError(
                f"{self.url}: {what} failed: HTTP {exc.status_code} {_code(exc)}"
            ) from None
        except ServiceRequestError as exc:
            raise StorageError(
                f"{self.url}: cannot reach {self.account_url} ({type(exc).__name__}); "
                f"check the account URL and the network"
            ) from None

    def _refused(self, what: str, exc: Exception) -> StorageError:
        return StorageError(
            f"{self.url}: {self.account_url} refused the credentials while trying to {what} "
            f"({_code(exc) or type(exc).__name__}); check AZURE_STORAGE_CONNECTION_STRING, "
            f"the SAS token (expired? read, write, list and delete allowed?) or the identity's "
            f"role on the container"
        )

    # -- reads --------------------------------------------------------------

    def _blob(self, key: str) -> BlobClient:
        return self.container.get_blob_client(join_key(self.prefix, check_key(key)))

    def _object(
        self, key: str, size: int, metadata: dict[str, str] | None, modified: Any
    ) -> StoredObject:
        sha = (metadata or {}).get(METADATA_SHA256) or None
        return StoredObject(key=key, size=int(size), sha256=sha, modified=modified)

    def stat(self, key: str) -> StoredObject | None:
        """The blob at ``key`` (its size, recorded sha256, last change), or ``None``."""
        from azure.core.exceptions import ResourceNotFoundError

        blob = self._blob(key)

        def properties() -> Any:
            try:
                return blob.get_blob_properties()
            except ResourceNotFoundError as exc:
                if _code(exc) == "ContainerNotFound":
                    raise
                return None

        found = self._call(f"read {key}", properties)
        if found is None:
            return None
        return self._object(key, found.size, found.metadata, found.last_modified)

    def exists(self, key: str) -> bool:
        """True if a committed blob is at ``key``."""
        return self.stat(key) is not None

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every blob below the storage's prefix whose key starts with ``prefix``, sorted."""
        base = f"{self.prefix}/" if self.prefix else ""

        def listing() -> list[StoredObject]:
            return [
                self._object(item.name[len(base) :], item.size, item.metadata, item.last_modified)
                for item in self.container.list_blobs(
                    name_starts_with=base + prefix, include=["metadata"]
                )
            ]

        return sorted(self._call("list blobs", listing), key=lambda o: o.key)

    def sha256(self, key: str) -> str | None:
        """The sha256 recorded in the blob's metadata (``None``: no blob, or none recorded)."""
        stored = self.stat(key)
        return None if stored is None else stored.sha256

    def read_bytes(self, key: str) -> bytes:
        """The blob's whole content.

        Raises:
            StorageError: no such blob, or the account refuses.
        """
        blob = self._blob(key)
        data: bytes = self._call(f"download {key}", lambda: blob.download_blob().readall())
        return data

    def get_file(
        self, key: str, path: str | os.PathLike[str], *, sha256: str | None = None
    ) -> StoredObject:
        """Download ``key`` to ``path`` through ``.name.part``, resuming a partial one.

        The content is checked against ``sha256``, or the recorded sha256 when
        none is given. A resumed part that does not verify is fetched once
        more from the start (the blob may have been replaced in between).

        Raises:
            StorageError: no such blob.
            IntegrityError: the content's sha256 differs; the part file is
                removed and ``path`` is left as it was.
        """
        stored = self.stat(key)
        if stored is None:
            raise StorageError(f"{self.url}: no blob {key!r}; check the key or push it first")
        want = sha256 or stored.sha256
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = part_path(target)
        got = self._download(key, part, stored.size)
        if want is not None and got != want and part.stat().st_size != stored.size:
            part.unlink()
            got = self._download(key, part, stored.size)
        if want is not None and got != want:
            part.unlink(missing_ok=True)
            raise IntegrityError(
                f"{self.url}/{key}: content sha256 {got[:12]}... differs from the recorded "
                f"{want[:12]}...; the stored copy is corrupt: push this file again "
                f"(nothing local was changed)",
                key=key,
            )
        os.replace(part, target)
        return StoredObject(key=key, size=stored.size, sha256=got, modified=stored.modified)

    def _download(self, key: str, part: Path, size: int) -> str:
        """Append the blob's bytes after what ``part`` holds; return the whole part's sha256."""
        have = part.stat().st_size if part.is_file() else 0
        if have > size:
            part.unlink()
            have = 0
        if have:
            logger.info("%s/%s: resuming the download at byte %d of %d", self.url, key, have, size)
        if have < size:
            blob = self._blob(key)

            def fetch() -> None:
                stream = blob.download_blob(offset=have)
                with part.open("ab") as handle:
                    for chunk in stream.chunks():
                        handle.write(chunk)

            self._call(f"download {key}", fetch)
        elif not part.exists():
            part.touch()
        return sha256_path(part)

    # -- writes -------------------------------------------------------------

    def _block_id(self, sha256: str, index: int) -> str:
        return base64.b64encode(f"{sha256[:40]}-{index:06d}".encode("ascii")).decode("ascii")

    def _staged(self, blob: BlobClient) -> dict[str, int]:
        """Uncommitted blocks the service holds for ``blob``: id -> size."""
        from azure.core.exceptions import ResourceNotFoundError

        def blocks() -> dict[str, int]:
            try:
                _, uncommitted = blob.get_block_list("uncommitted")
            except ResourceNotFoundError as exc:
                if _code(exc) == "ContainerNotFound":
                    raise
                return {}
            return {block.id: int(block.size) for block in uncommitted}

        return self._call("list staged blocks", blocks)

    def put_file(
        self, key: str, path: str | os.PathLike[str], *, sha256: str | None = None
    ) -> PutResult:
        """Upload ``path`` to ``key`` as staged blocks, committed once all are there.

        Skipped when the blob already holds this content (same size and
        recorded sha256). Blocks staged by an earlier, killed attempt for the
        same content are not sent again.
        """
        from azure.storage.blob import BlobBlock, ContentSettings

        source = Path(path)
        digest = sha256 or sha256_path(source)
        size = source.stat().st_size
        current = self.stat(key)
        if current is not None and current.size == size and current.sha256 == digest:
            return PutResult(key=key, size=size, sha256=digest, skipped=True)
        if size == 0:
            return self.write_bytes(key, b"")
        blob = self._blob(key)
        staged = self._staged(blob)
        ids: list[str] = []
        sent = reused = sent_bytes = 0
        with source.open("rb") as handle:
            while chunk := handle.read(self.block_size):
                block_id = self._block_id(digest, len(ids))
                ids.append(block_id)
                if staged.get(block_id) == len(chunk):
                    reused += 1
                    continue
                self._stage(blob, key, block_id, chunk)
                sent += 1
                sent_bytes += len(chunk)
        content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        self._call(
            f"commit {key}",
            lambda: blob.commit_block_list(
                [BlobBlock(block_id=i) for i in ids],
                metadata={METADATA_SHA256: digest},
                content_settings=ContentSettings(content_type=content_type),
            ),
        )
        if reused:
            logger.info(
                "%s/%s: resumed, %d of %d blocks were staged already",
                self.url, key, reused, len(ids),
            )  # fmt: skip
        return PutResult(
            key=key, size=size, sha256=digest, bytes_sent=sent_bytes,
            blocks_sent=sent, blocks_reused=reused,
        )  # fmt: skip

    def _stage(self, blob: BlobClient, key: str, block_id: str, chunk: bytes) -> None:
        """Send one block with its MD5 (``validate_content``), which the service checks."""
        self._call(
            f"upload {key}",
            lambda: blob.stage_block(block_id, chunk, length=len(chunk), validate_content=True),
        )
        logger.debug("%s/%s: staged block %s (%d bytes)", self.url, key, block_id, len(chunk))

    def write_bytes(self, key: str, data: bytes) -> PutResult:
        """Store ``data`` at ``key`` in one request (atomic), with its sha256 as metadata."""
        from azure.storage.blob import ContentSettings

        digest = hashlib.sha256(data).hexdigest()
        blob = self._blob(key)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self._call(
            f"upload {key}",
            lambda: blob.upload_blob(
                data, overwrite=True, metadata={METADATA_SHA256: digest},
                content_settings=ContentSettings(content_type=content_type),
            ),
        )  # fmt: skip
        return PutResult(
            key=key, size=len(data), sha256=digest, bytes_sent=len(data), blocks_sent=1
        )

    def delete(self, key: str) -> None:
        """Remove the blob at ``key`` if it is there."""
        from azure.core.exceptions import ResourceNotFoundError

        blob = self._blob(key)

        def remove() -> None:
            try:
                blob.delete_blob()
            except ResourceNotFoundError as exc:
                if _code(exc) == "ContainerNotFound":
                    raise

        self._call(f"delete {key}", remove)

    def create_container(self) -> None:
        """Create the container if it does not exist yet."""
        from azure.core.exceptions import ResourceExistsError

        def create() -> None:
            with contextlib.suppress(ResourceExistsError):
                self.container.create_container()

        self._call("create the container", create)


def _code(exc: Exception) -> str:
    """The service's error code (``ContainerNotFound``, ``AuthorizationFailure``...)."""
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")
