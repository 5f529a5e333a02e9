"""Plate images in Azure Blob Storage as a camera source: ``azblob://container/prefix``.

A Hades imager (or anything else) that drops image files into a container
feeds predictions directly: the ``azblob`` source lists the blobs under the
prefix, keeps the frames by the same rules as a folder (image suffixes only,
masks, hidden names and sidecars left out, natural order: ``plate_2`` before
``plate_10``), and downloads each blob only when its frame is due.

With ``watch=true`` it keeps listing every ``interval`` seconds and yields
blobs that arrive later, in name order within each listing, until it is
closed or, with ``idle_timeout``, until that many seconds pass without a new one.
A blob is listed only once committed, so a half-uploaded plate is never read.

Options: ``recursive`` (default true: blobs in "sub-folders" of the prefix
too), ``watch``, ``interval`` (default 5 s), ``idle_timeout``, ``max_bytes``
(default 200 MB), ``max_pixels``, ``skip_bad``. Credentials come from the
environment, as for ``visionkit data push`` (:mod:`visionkit.storage.credentials`).

Bad input: no account configured, a missing container or refused
credentials raise :class:`~visionkit.exceptions.SourceError` at open; a
prefix with no images (and no ``watch``) raises
:class:`~visionkit.exceptions.SourceNotFoundError`; a blob that is not an
image raises :class:`~visionkit.exceptions.ImageReadError` naming it, unless
``skip_bad``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from visionkit.exceptions import ImageError, SourceError, SourceNotFoundError, StorageError
from visionkit.frame import Frame
from visionkit.hookspecs import hookimpl
from visionkit.imageio import IMAGE_SUFFIXES, decode_image
from visionkit.sources._options import as_bool, as_positive_float, as_positive_int, check_known
from visionkit.sources._paths import is_mask_file, natural_key
from visionkit.sources.base import BaseSource
from visionkit.specs import SourceSpec
from visionkit.tracing import span

if TYPE_CHECKING:
    from visionkit.storage.base import Storage, StoredObject

__all__ = ["DEFAULT_INTERVAL", "AzBlobSource", "is_frame_key", "open_azblob"]

logger = logging.getLogger(__name__)

#: Seconds between listings in watch mode.
DEFAULT_INTERVAL = 5.0

_DEFAULT_MAX_BYTES = 200_000_000
_OPTIONS = frozenset(
    {"recursive", "watch", "interval", "idle_timeout", "max_bytes", "max_pixels", "skip_bad"}
)


def is_frame_key(key: str, *, recursive: bool = True) -> bool:
    """True for a blob key that is a plate image by the folder source's rules."""
    path = PurePosixPath(key)
    if not recursive and len(path.parts) > 1:
        return False
    if any(part.startswith(".") for part in path.parts):
        return False
    name = path.name.lower()
    if name == "manifest.json" or name.endswith(".landmarks.json"):
        return False
    return path.suffix.lower() in IMAGE_SUFFIXES and not is_mask_file(path.name)


class AzBlobSource(BaseSource):
    """Frames downloaded one by one from the image blobs under a prefix.

    Each frame's ``source_id`` is ``azblob://container/prefix/key``; its
    metadata holds ``name``, ``key`` (below the prefix), ``url``, ``bytes``,
    ``sha256`` (when the blob records one), ``index`` and the decoder's report.
    Its timestamp is the blob's last-modified time.
    """

    name = "azblob"

    def __init__(
        self,
        storage: Storage,
        *,
        recursive: bool = True,
        watch: bool = False,
        interval: float = DEFAULT_INTERVAL,
        idle_timeout: float | None = None,
        max_bytes: int = _DEFAULT_MAX_BYTES,
        max_pixels: int | None = None,
        skip_bad: bool = False,
    ) -> None:
        self.storage = storage
        self.recursive = recursive
        self.watch = watch
        self.interval = interval
        self.idle_timeout = idle_timeout
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.skip_bad = skip_bad
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return f"<AzBlobSource {self.storage.url!r}{' watching' if self.watch else ''}>"

    def listing(self) -> list[StoredObject]:
        """The image blobs there now, in natural name order."""
        try:
            stored = self.storage.list()
        except StorageError as exc:
            raise SourceError(str(exc)) from exc
        frames = [o for o in stored if is_frame_key(o.key, recursive=self.recursive)]
        return sorted(frames, key=lambda o: natural_key(o.key))

    def __iter__(self) -> Iterator[Frame]:
        seen: set[str] = set()
        index = 0
        last_new = time.monotonic()
        while not self._closed.is_set():
            fresh = [o for o in self.listing() if o.key not in seen]
            for stored in fresh:
                if self._closed.is_set():
                    return
                seen.add(stored.key)
                frame = self._frame(stored, index)
                if frame is not None:
                    index += 1
                    yield frame
            if fresh:
                last_new = time.monotonic()
            if not self.watch:
                return
            if self.idle_timeout is not None and time.monotonic() - last_new >= self.idle_timeout:
                logger.info(
                    "%s: no new image for %g s, stopping", self.storage.url, self.idle_timeout
                )
                return
            self._closed.wait(self.interval)

    def _frame(self, stored: StoredObject, index: int) -> Frame | None:
        url = f"{self.storage.url}/{stored.key}"
        try:
            if stored.size > self.max_bytes:
                raise SourceError(
                    f"{url}: {stored.size:,} bytes is over max_bytes={self.max_bytes:,}; "
                    f"raise max_bytes if this image is expected"
                )
            with span("visionkit.read", image=PurePosixPath(stored.key).name):
                try:
                    data = self.storage.read_bytes(stored.key)
                except StorageError as exc:
                    raise SourceError(str(exc)) from exc
                image, info = decode_image(data, source=url, max_pixels=self.max_pixels)
        except (ImageError, SourceError) as exc:
            if not self.skip_bad:
                raise
            logger.warning("skipping %s (skip_bad=True): %s", url, exc)
            return None
        metadata: dict[str, Any] = {
            "name": PurePosixPath(stored.key).name,
            "key": stored.key,
            "url": url,
            "bytes": len(data),
            "index": index,
            **info,
        }
        if stored.sha256:
            metadata["sha256"] = stored.sha256
        frame_kwargs: dict[str, Any] = {"timestamp": stored.modified} if stored.modified else {}
        return Frame(image=image, source_id=url, metadata=metadata, **frame_kwargs)

    def close(self) -> None:
        """Stop a watching iteration at its next check; safe to call twice."""
        self._closed.set()


def open_azblob(uri: str, **options: Any) -> AzBlobSource:
    """Open ``azblob://container/prefix`` as a source of the image blobs there.

    Options:
        recursive: also blobs below sub-prefixes (default true).
        watch: keep listing for new blobs (default false).
        interval: seconds between listings when watching (default 5).
        idle_timeout: stop watching after this many seconds without a new blob.
        max_bytes: refuse larger blobs (default 200 MB).
        max_pixels: refuse larger images.
        skip_bad: warn and skip blobs that are not readable images.

    Raises:
        SourceError: not an azblob URL, a bad option, no account configured,
            a missing container or refused credentials.
        SourceNotFoundError: no image under the prefix (and not watching).
    """
    from visionkit.storage.open import is_azblob_url, open_storage

    check_known("azblob", options, _OPTIONS)
    if not is_azblob_url(uri):
        raise SourceError(f"{uri!r} is not an azblob:// URL; give azblob://container/prefix")
    max_pixels = options.get("max_pixels")
    idle = options.get("idle_timeout")
    source_kwargs: dict[str, Any] = {
        "recursive": as_bool("azblob", "recursive", options.get("recursive", True)),
        "watch": as_bool("azblob", "watch", options.get("watch", False)),
        "interval": as_positive_float(
            "azblob", "interval", options.get("interval", DEFAULT_INTERVAL)
        ),
        "idle_timeout": None if idle is None else as_positive_float("azblob", "idle_timeout", idle),
        "max_bytes": as_positive_int(
            "azblob", "max_bytes", options.get("max_bytes", _DEFAULT_MAX_BYTES)
        ),
        "max_pixels": None
        if max_pixels is None
        else as_positive_int("azblob", "max_pixels", max_pixels),
        "skip_bad": as_bool("azblob", "skip_bad", options.get("skip_bad", False)),
    }
    try:
        storage = open_storage(uri)
    except StorageError as exc:
        raise SourceError(str(exc)) from exc
    source = AzBlobSource(storage, **source_kwargs)
    if not source.watch and not source.listing():
        raise SourceNotFoundError(
            f"{uri}: no images there (looked for {', '.join(sorted(IMAGE_SUFFIXES))}, masks "
            f"excluded); check the prefix, or open it with watch=true to wait for new ones"
        )
    return source


@hookimpl
def visionkit_register_sources() -> list[SourceSpec]:
    """The ``azblob`` source."""
    return [
        SourceSpec(
            "azblob",
            open_azblob,
            "image blobs in Azure Blob Storage, in natural order (watch=true for new ones)",
            ("azblob://plates/hades-1", "azblob://plates/2024-05-01/run-3"),
        )
    ]


@hookimpl
def visionkit_open_source(uri: str, options: dict[str, Any]) -> AzBlobSource | None:
    """Claim ``azblob://`` URIs."""
    from visionkit.storage.open import is_azblob_url

    options = dict(options)
    wanted = options.pop("source", None)
    if wanted is not None:
        return open_azblob(uri, **options) if wanted == "azblob" else None
    return open_azblob(uri, **options) if is_azblob_url(uri) else None
