"""One image fetched over HTTP(S), e.g. a camera's snapshot endpoint.

The ``url`` source claims ``http://`` and ``https://`` URLs, except those
that name a video (a video suffix, or ``stream=True``), which the ``opencv``
source reads as a stream. It yields one frame per iteration: the image is
downloaded when the frame is due, so iterating again fetches a fresh
snapshot.

Options: ``timeout`` (seconds to wait for the server to connect or to send
more data; default 10), ``max_bytes`` (refuse a body larger than this;
default 200 MB; the body is streamed and the download stops as soon as it
goes over), ``max_pixels`` (the decoder's pixel limit).

Bad input: an HTTP error status, a timeout, a refused connection or a body
over ``max_bytes`` raise :class:`~visionkit.exceptions.SourceError`; a body
that is not an image raises :class:`~visionkit.exceptions.ImageReadError`.
Every message names the URL, with passwords and signature-like query values
(``sig``, ``token``, ``key``...) masked so logs do not leak credentials.
``requests`` is imported only when a download starts.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from visionkit.exceptions import SourceError
from visionkit.frame import Frame
from visionkit.hookspecs import hookimpl
from visionkit.imageio import decode_image
from visionkit.sources._options import as_positive_float, as_positive_int, check_known
from visionkit.sources._uri import is_http_url, is_video_url
from visionkit.sources.base import BaseSource
from visionkit.specs import SourceSpec

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "UrlSource", "open_url", "redact_url"]

logger = logging.getLogger(__name__)

#: Default per-request timeout, seconds.
DEFAULT_TIMEOUT = 10.0

#: Default download size limit: 200 MB, far above a 12.6 Mpx PNG.
DEFAULT_MAX_BYTES = 200_000_000

_OPTIONS = frozenset({"max_bytes", "max_pixels", "timeout"})
_SECRET_PARAM = re.compile(r"sig|signature|token|key|secret|password|credential", re.IGNORECASE)
_CHUNK = 1 << 16


def redact_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class UrlSource(BaseSource):
    """A one-frame source that downloads an image each time it is iterated.

    The frame's ``source_id`` is the (redacted) URL; its metadata holds
    ``name`` (the URL's last path part, or the host), ``url``,
    ``content_type``, ``bytes`` and the decoder's ``bit_depth`` report.
    """

    name = "url"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._shown = redact_url(url)
        self._session: Any = None

    def __len__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return f"<UrlSource {self._shown!r}>"

    def __iter__(self) -> Iterator[Frame]:
        data, content_type = self._download()
        image, info = decode_image(data, source=self._shown, max_pixels=self.max_pixels)
        parts = urlsplit(self.url)
        name = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or parts.hostname or "image"
        metadata: dict[str, Any] = {
            "name": name,
            "url": self._shown,
            "content_type": content_type,
            "bytes": len(data),
            **info,
        }
        yield Frame(
            image=image,
            source_id=self._shown,
            metadata=metadata,
            timestamp=_dt.datetime.now(_dt.UTC),
        )

    def _download(self) -> tuple[bytes, str | None]:
        import requests

        if self._session is None:
            self._session = requests.Session()
        try:
            response = self._session.get(self.url, timeout=self.timeout, stream=True)
        except requests.RequestException as exc:
            raise self._failed(exc) from exc
        with response:
            if response.status_code >= 400:
                raise SourceError(
                    f"{self._shown}: server answered HTTP {response.status_code} "
                    f"{response.reason or ''}".rstrip()
                    + "; check the URL and that the camera or server is serving images"
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_big(f"it declares {int(declared):,} bytes")
            chunks: list[bytes] = []
            total = 0
            try:
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise self._too_big(f"the download passed {total:,} bytes")
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise self._failed(exc) from exc
            logger.debug("%s: downloaded %d bytes", self._shown, total)
            return b"".join(chunks), response.headers.get("Content-Type")

    def _failed(self, exc: Exception) -> SourceError:
        import requests

        if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
            return SourceError(
                f"{self._shown}: timed out after {self.timeout:g} s waiting for the server; "
                f"check that it is up, or raise the timeout option"
            )
        return SourceError(
            f"{self._shown}: cannot download ({type(exc).__name__}); check the URL and the network"
        )

    def _too_big(self, why: str) -> SourceError:
        return SourceError(
            f"{self._shown}: too large: {why}, over max_bytes={self.max_bytes:,}; "
            f"raise max_bytes if this image is expected"
        )

    def close(self) -> None:
        """Close the HTTP connection pool; safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None


def open_url(uri: str, **options: Any) -> UrlSource:
    """Open an ``http(s)`` URL of one image.

    Options:
        timeout: seconds to wait for the server (default 10).
        max_bytes: largest body accepted (default 200 MB).
        max_pixels: refuse larger images.

    Raises:
        SourceError: the URI is not http(s), or an option is invalid.
    """
    check_known("url", options, _OPTIONS)
    if not is_http_url(uri):
        raise SourceError(f"{uri!r} is not an http:// or https:// URL")
    max_pixels = options.get("max_pixels")
    return UrlSource(
        uri,
        timeout=as_positive_float("url", "timeout", options.get("timeout", DEFAULT_TIMEOUT)),
        max_bytes=as_positive_int("url", "max_bytes", options.get("max_bytes", DEFAULT_MAX_BYTES)),
        max_pixels=None if max_pixels is None else as_positive_int("url", "max_pixels", max_pixels),
    )


@hookimpl
def visionkit_register_sources() -> list[SourceSpec]:
    """The ``url`` source."""
    return [
        SourceSpec(
            "url",
            open_url,
            "one image downloaded over http(s), fetched afresh each iteration",
            ("https://camera.local/snapshot.png",),
        )
    ]


@hookimpl
def visionkit_open_source(uri: str, options: dict[str, Any]) -> UrlSource | None:
    """Claim http(s) URLs that are not video streams."""
    options = dict(options)
    wanted = options.pop("source", None)
    if wanted is not None:
        return open_url(uri, **options) if wanted == "url" else None
    if is_http_url(uri) and not is_video_url(uri, options):
        options.pop("stream", None)  # stream=False: "this http URL is an image"
        return open_url(uri, **options)
    return None
