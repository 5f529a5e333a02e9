"""Image files as a camera source: one ``file``, a ``glob`` pattern, or a ``folder``.

Which files count as frames (image suffixes only, masks and hidden files left
out, natural order) is decided in one place, :mod:`visionkit.sources._paths`.
Pixels are read lazily, one file per frame, through
:func:`visionkit.imageio.read_image`, so 8-bit PNG, R=G=B RGBA, the 12-bit
Hades TIFF, JPEG and BMP all arrive as ``uint8``.

Bad input:

- a path that does not exist: the open hook returns ``None`` (another plugin
  may know it); opening it by source name raises
  :class:`~visionkit.exceptions.SourceNotFoundError`;
- an empty folder, or a glob that matches nothing: ``SourceNotFoundError``
  naming the path;
- non-image files in a folder or glob, and a folder's sub-folders unless
  ``recursive``: skipped, with one warning saying how many and why;
- a corrupt image: :class:`~visionkit.exceptions.ImageReadError` naming the
  file when its frame is due, unless ``skip_bad=True``, which logs a warning
  and goes on to the next file.

This module is the last built-in plugin asked to open a URI (``trylast``), so
any other plugin can claim a path first.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from visionkit.exceptions import ImageError, ImageReadError, SourceError, SourceNotFoundError
from visionkit.frame import Frame
from visionkit.hookspecs import hookimpl
from visionkit.imageio import IMAGE_SUFFIXES, read_image
from visionkit.sources._options import as_bool, as_positive_int, check_known
from visionkit.sources._paths import find_frames, glob_frames
from visionkit.sources._uri import has_scheme, looks_like_glob
from visionkit.sources.base import BaseSource
from visionkit.specs import SourceSpec
from visionkit.tracing import span

__all__ = ["ImageFilesSource", "open_file", "open_folder", "open_glob"]

logger = logging.getLogger(__name__)

_FILE_OPTIONS = frozenset({"max_pixels"})
_GLOB_OPTIONS = frozenset({"max_pixels", "skip_bad"})
_FOLDER_OPTIONS = frozenset({"max_pixels", "recursive", "skip_bad"})


class ImageFilesSource(BaseSource):
    """Frames read one by one from a fixed list of image files.

    Iterating again starts again from the first file. ``len()`` is the number
    of files listed; with ``skip_bad`` a corrupt file yields no frame, so the
    iteration can be shorter.

    Each frame's ``source_id`` is the file path; its metadata holds ``name``
    (the file name), ``path``, ``index`` (position in the list) and what
    :func:`~visionkit.imageio.read_image` reports (``bit_depth``, ``dtype``,
    ``channels`` for colour input). Its timestamp is the file's modification
    time, the closest a file gets to when the plate was imaged.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        name: str,
        origin: str,
        skip_bad: bool = False,
        max_pixels: int | None = None,
    ) -> None:
        self.name = name
        self.origin = origin
        self.skip_bad = skip_bad
        self.max_pixels = max_pixels
        self._paths = tuple(paths)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The files this source reads, in order."""
        return self._paths

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.origin!r}: {len(self)} files>"

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self._paths):
            try:
                with span("visionkit.read", image=path.name):
                    image, info = read_image(path, max_pixels=self.max_pixels)
            except ImageError as exc:
                if not self.skip_bad:
                    raise
                logger.warning("skipping %s (skip_bad=True): %s", path, exc)
                continue
            metadata: dict[str, Any] = {"name": path.name, "path": str(path), "index": index}
            metadata.update(info)
            metadata.update(self._extra_metadata(path))
            yield Frame(
                image=image,
                source_id=str(path),
                metadata=metadata,
                timestamp=_modified(path),
            )

    def _extra_metadata(self, path: Path) -> dict[str, Any]:
        """More metadata per file; subclasses (the Hades source) add theirs."""
        return {}


def _modified(path: Path) -> _dt.datetime:
    try:
        return _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.UTC)
    except OSError:  # pragma: no cover - the file vanished after it was read
        return _dt.datetime.now(_dt.UTC)


def _common(name: str, options: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Validate the options every file source shares; return constructor keywords."""
    check_known(name, options, known)
    kwargs: dict[str, Any] = {}
    if options.get("max_pixels") is not None:
        kwargs["max_pixels"] = as_positive_int(name, "max_pixels", options["max_pixels"])
    if "skip_bad" in options:
        kwargs["skip_bad"] = as_bool(name, "skip_bad", options["skip_bad"])
    return kwargs


def open_file(uri: str, **options: Any) -> ImageFilesSource:
    """Open one image file as a one-frame source.

    Options:
        max_pixels: refuse larger images (default ``VISIONKIT_MAX_PIXELS``).

    Raises:
        SourceNotFoundError: no such file.
        SourceError: the path is a folder.
        ImageReadError: the suffix is not an image format.
    """
    kwargs = _common("file", options, _FILE_OPTIONS)
    path = Path(uri).expanduser()
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, not a file; open it with source 'folder'")
    if not path.is_file():
        raise SourceNotFoundError(f"{path}: no such image file; check the path")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageReadError(
            f"{path}: {path.suffix or 'no suffix'} is not an image format; "
            f"use one of {', '.join(sorted(IMAGE_SUFFIXES))}"
        )
    return ImageFilesSource([path], name="file", origin=uri, **kwargs)


def open_glob(uri: str, **options: Any) -> ImageFilesSource:
    """Open the image files a glob pattern matches, in natural order.

    Options:
        skip_bad: warn and skip corrupt images instead of raising.
        max_pixels: refuse larger images.

    Raises:
        SourceNotFoundError: the pattern matches no image file.
    """
    kwargs = _common("glob", options, _GLOB_OPTIONS)
    return ImageFilesSource(glob_frames(uri), name="glob", origin=uri, **kwargs)


def open_folder(uri: str, **options: Any) -> ImageFilesSource:
    """Open every image in a folder, in natural order.

    Options:
        recursive: also read sub-folders (default false).
        skip_bad: warn and skip corrupt images instead of raising.
        max_pixels: refuse larger images.

    Raises:
        SourceNotFoundError: the folder does not exist or holds no images.
        SourceError: the path is a file.
    """
    kwargs = _common("folder", options, _FOLDER_OPTIONS)
    recursive = as_bool("folder", "recursive", options.get("recursive", False))
    path = Path(uri).expanduser()
    if path.is_file():
        raise SourceError(f"{path}: is a file, not a folder; open it with source 'file'")
    if not path.is_dir():
        raise SourceNotFoundError(f"{path}: no such folder; check the path")
    _, paths = find_frames(uri, recursive=recursive)
    return ImageFilesSource(paths, name="folder", origin=uri, **kwargs)


@hookimpl
def visionkit_register_sources() -> list[SourceSpec]:
    """The ``file``, ``glob`` and ``folder`` sources."""
    return [
        SourceSpec(
            "file",
            open_file,
            "one image file (PNG, JPEG, TIFF incl. 12-bit, BMP)",
            ("plate_001.png", "raw/plate_001.tif"),
        ),
        SourceSpec(
            "glob",
            open_glob,
            "image files matching a glob pattern, in natural order",
            ("plates/*.png", "runs/**/*.tif"),
        ),
        SourceSpec(
            "folder",
            open_folder,
            "every image in a folder (option recursive), masks skipped",
            ("plates/", "runs/2023-08-08"),
        ),
    ]


_OPENERS = {"file": open_file, "glob": open_glob, "folder": open_folder}


@hookimpl(trylast=True)
def visionkit_open_source(uri: str, options: dict[str, Any]) -> ImageFilesSource | None:
    """Open an existing image file, a folder, or a glob pattern; else ``None``."""
    options = dict(options)
    wanted = options.pop("source", None)
    if wanted is not None:
        return _OPENERS[wanted](uri, **options) if wanted in _OPENERS else None
    if has_scheme(uri):
        return None
    path = Path(uri).expanduser()
    if path.is_dir():
        return open_folder(uri, **options)
    if path.is_file():
        return open_file(uri, **options) if path.suffix.lower() in IMAGE_SUFFIXES else None
    if looks_like_glob(uri):
        return open_glob(uri, **options)
    return None
