"""Cameras, video files and live streams through OpenCV's ``VideoCapture``.

URIs it claims:

- a camera index: ``"0"``, ``"1"``... (a bare number is always a camera;
  write ``./0`` for a folder named ``0``);
- a video file by suffix (``.mp4``, ``.avi``, ``.mkv``, ``.mov``, ...), even
  one that does not exist, so the error names it instead of "no source";
- a stream URL: ``rtsp://``, ``rtmp://``, ``udp://``..., or an ``http(s)``
  URL whose path ends in a video suffix or opened with ``stream=True``.

Options: ``max_frames`` (stop after this many frames), ``every_n`` (yield
every n-th frame; the others are grabbed but not decoded), ``gray_tolerance``
(see below).

Frames come as ``uint8``. OpenCV decodes to BGR; a frame whose three
channels are equal becomes grayscale, anything else is converted to RGB.
Lossy codecs (MJPG, H.264) blur channels of a grey scene by a level or two;
``gray_tolerance=3`` treats channels that differ by at most 3 as grey (the
default 0 keeps colour unless the channels are exactly equal).

The capture is opened when the source is, so a missing file or camera fails
at once with :class:`~visionkit.exceptions.SourceError` naming the URI. A
source reads forward only: iterating again continues where the last
iteration stopped. ``cv2`` is imported only when a source is opened.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from visionkit.exceptions import SourceError
from visionkit.frame import Frame
from visionkit.hookspecs import hookimpl
from visionkit.imageio import normalise_to_uint8
from visionkit.sources._options import as_bool, as_positive_int, check_known
from visionkit.sources._uri import is_camera_index, is_video_path, is_video_url
from visionkit.sources.base import BaseSource
from visionkit.specs import SourceSpec

__all__ = ["OpenCVSource", "open_opencv"]

logger = logging.getLogger(__name__)

_OPTIONS = frozenset({"every_n", "gray_tolerance", "max_frames", "stream"})


class OpenCVSource(BaseSource):
    """Frames from a ``cv2.VideoCapture``: a camera, a video file or a stream.

    Each frame's metadata holds ``name`` (the file name, ``camera<N>`` or the
    URL's last part), ``kind`` (``"camera"``, ``"video"`` or ``"stream"``),
    ``frame_index`` (position in the capture, counting skipped frames),
    ``position_ms``, ``fps`` and the ``bit_depth``/``channels`` report.
    ``len()`` works for a video file (from its frame count), not for a camera
    or a stream, which run until closed.
    """

    name = "opencv"

    def __init__(
        self,
        uri: str,
        *,
        max_frames: int | None = None,
        every_n: int = 1,
        gray_tolerance: int = 0,
    ) -> None:
        import cv2

        self._capture: Any = None
        self.uri = uri
        self.max_frames = max_frames
        self.every_n = every_n
        self.gray_tolerance = gray_tolerance
        self._yielded = 0
        self._next_index = 0
        if is_camera_index(uri):
            self.kind = "camera"
            self._label = f"camera{int(uri)}"
            target: int | str = int(uri)
        elif is_video_path(uri):
            self.kind = "video"
            path = Path(uri).expanduser()
            if not path.is_file():
                raise SourceError(f"{uri}: no such video file; check the path")
            self._label = path.name
            target = str(path)
        else:
            self.kind = "stream"
            self._label = uri.rstrip("/").rsplit("/", 1)[-1] or uri
            target = uri
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            self._capture = None
            raise SourceError(_cannot_open(uri, self.kind))
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._frame_count = count if self.kind == "video" and count > 0 else None

    @property
    def frame_count(self) -> int | None:
        """How many frames this source will yield, if known (video files only)."""
        if self._frame_count is None:
            return None
        strided = -(-self._frame_count // self.every_n)
        return strided if self.max_frames is None else min(strided, self.max_frames)

    def __len__(self) -> int:
        count = self.frame_count
        if count is None:
            raise TypeError(f"{self.kind} source {self.uri!r} has no length: it runs until closed")
        return count

    def __repr__(self) -> str:
        return f"<OpenCVSource {self.kind} {self.uri!r}>"

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        while self._capture is not None:
            if self.max_frames is not None and self._yielded >= self.max_frames:
                return
            index = self._next_index
            if index % self.every_n != 0:
                self._next_index += 1
                if not self._capture.grab():
                    self._ended()
                    return
                continue
            ok, bgr = self._capture.read()
            self._next_index += 1
            if not ok or bgr is None:
                self._ended()
                return
            position = float(self._capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
            image, info = self._to_uint8(bgr)
            self._yielded += 1
            metadata: dict[str, Any] = {
                "name": self._label,
                "kind": self.kind,
                "frame_index": index,
                "position_ms": position,
                "fps": self.fps,
                **info,
            }
            yield Frame(
                image=image,
                source_id=self.uri,
                metadata=metadata,
                timestamp=_dt.datetime.now(_dt.UTC),
            )

    def _to_uint8(self, bgr: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        if bgr.ndim == 3 and bgr.shape[2] >= 3 and self.gray_tolerance > 0:
            channels = bgr[:, :, :3].astype(np.int16)
            spread = np.ptp(channels, axis=2)
            if int(spread.max()) <= self.gray_tolerance:
                gray = np.round(channels.mean(axis=2)).astype(np.uint8)
                image, info = normalise_to_uint8(gray, source=self.uri)
                info["channels"] = "near-equal-rgb"
                return image, info
        if bgr.ndim == 3 and bgr.shape[2] >= 3:
            bgr = bgr[:, :, 2::-1]  # BGR(A) -> RGB: OpenCV's order is not ours
        return normalise_to_uint8(bgr, source=self.uri)

    def _ended(self) -> None:
        if self.kind == "video":
            logger.debug("%s: end of video after %d frames", self.uri, self._yielded)
        else:
            logger.warning(
                "%s: %s delivered no more frames after %d; it may be unplugged or the "
                "stream closed",
                self.uri,
                self.kind,
                self._yielded,
            )
        self.close()

    def close(self) -> None:
        """Release the camera, file or connection; safe to call twice."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _cannot_open(uri: str, kind: str) -> str:
    if kind == "camera":
        return (
            f"camera {uri}: cannot open it; check that it is plugged in, not used by "
            f"another program, and that the index is right (0 is the first camera)"
        )
    if kind == "video":
        return (
            f"{uri}: OpenCV cannot open this video; the file may be corrupt or use a "
            f"codec this OpenCV build lacks"
        )
    return f"{uri}: cannot open the stream; check the URL, the network and any credentials"


def open_opencv(uri: str, **options: Any) -> OpenCVSource:
    """Open a camera index, a video file or a stream URL.

    Options:
        max_frames: stop after this many frames (default: all).
        every_n: yield every n-th frame (default 1).
        gray_tolerance: largest channel difference still taken as grey (default 0).
        stream: accepted for symmetry with the open hook (marks an http URL as video).

    Raises:
        SourceError: the capture cannot be opened, or an option is invalid.
    """
    check_known("opencv", options, _OPTIONS)
    if "stream" in options:
        as_bool("opencv", "stream", options["stream"])
    max_frames = options.get("max_frames")
    return OpenCVSource(
        uri,
        max_frames=None
        if max_frames is None
        else as_positive_int("opencv", "max_frames", max_frames),
        every_n=as_positive_int("opencv", "every_n", options.get("every_n", 1)),
        gray_tolerance=as_positive_int(
            "opencv", "gray_tolerance", options.get("gray_tolerance", 0), minimum=0
        ),
    )


@hookimpl
def visionkit_register_sources() -> list[SourceSpec]:
    """The ``opencv`` source."""
    return [
        SourceSpec(
            "opencv",
            open_opencv,
            "a camera index, a video file or a stream URL (OpenCV VideoCapture)",
            ("0", "run.mp4", "rtsp://camera.local/stream"),
        )
    ]


@hookimpl
def visionkit_open_source(uri: str, options: dict[str, Any]) -> OpenCVSource | None:
    """Claim camera indexes, video files and stream URLs."""
    options = dict(options)
    wanted = options.pop("source", None)
    if wanted is not None:
        return open_opencv(uri, **options) if wanted == "opencv" else None
    if is_camera_index(uri) or is_video_path(uri) or is_video_url(uri, options):
        return open_opencv(uri, **options)
    return None
