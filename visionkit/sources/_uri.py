"""Tell kinds of URI apart, so each built-in source claims only its own.

Pluggy asks the built-in sources in the order url, opencv, hades, files;
the url source must leave video URLs to opencv, and files must leave any
``scheme://`` URI alone. The rules live here so the sources agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "STREAM_SCHEMES",
    "VIDEO_SUFFIXES",
    "has_scheme",
    "is_camera_index",
    "is_http_url",
    "is_video_path",
    "is_video_url",
    "looks_like_glob",
]

#: Suffixes OpenCV reads as video files (lower case).
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".mpg", ".mpeg", ".webm"})

#: URL schemes that are always live streams.
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "udp", "tcp"})

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB_CHARS = re.compile(r"[*?\[]")


def has_scheme(uri: str) -> bool:
    """True for ``name://...`` URIs (URLs, streams, blob stores), false for paths."""
    return bool(_SCHEME.match(uri))


def is_http_url(uri: str) -> bool:
    """True for ``http://`` and ``https://`` URLs."""
    return urlsplit(uri).scheme.lower() in {"http", "https"} and has_scheme(uri)


def is_camera_index(uri: str) -> bool:
    """True for a camera device number such as ``"0"``."""
    return uri.strip().isdigit()


def is_video_path(uri: str) -> bool:
    """True for a local path with a video suffix (existing or not)."""
    if has_scheme(uri):
        return False
    dot = uri.rfind(".")
    return dot != -1 and uri[dot:].lower() in VIDEO_SUFFIXES


def is_video_url(uri: str, options: Mapping[str, Any]) -> bool:
    """True for a stream URL: rtsp/rtmp/..., or http(s) with a video suffix or ``stream``."""
    if not has_scheme(uri):
        return False
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in STREAM_SCHEMES:
        return True
    if scheme not in {"http", "https"}:
        return False
    if options.get("stream") in (True, "true", "1", 1, "yes", "on"):
        return True
    path = parts.path.lower()
    return any(path.endswith(suffix) for suffix in VIDEO_SUFFIXES)


def looks_like_glob(uri: str) -> bool:
    """True for a path with glob characters (``*``, ``?`` or ``[``)."""
    return not has_scheme(uri) and bool(_GLOB_CHARS.search(uri))
