"""NPEC Hades plate images: files, folders or globs whose names carry metadata.

A Hades file name reads::

    035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png
    ^^^ ^^^^^^^^^^^ ^^^^^^^^^^ ^^^^^^^^^^^^^ ^^ ^^^^^^^^^^^^^^^^^^
    plate experiment  date     condition     replicate  processing (optional)

and a training label beside it adds ``_<class>_mask`` before the suffix
(``..._03-Fish Eye Corrected_root_mask.tif``). :func:`parse_hades_name` turns
a name into a :class:`HadesName`; the plate number, experiment and date
must be there, the rest is optional, and pieces it cannot place are kept in
``extra`` (the whole name is always in ``raw``).

The ``hades`` source reads pixels exactly like the ``folder`` source (same
skip rules: mask files and hidden files skipped silently, non-images with one
warning) and adds ``metadata["hades"]``: the parsed name as a dict, or
``None`` for a file whose name is not a Hades name, which still loads.

When the hades source claims a URI: its open hook takes an existing file,
folder or glob when the caller asks for it (``options["source"] == "hades"``)
or when the first frame file, in natural order, has a Hades name. So a folder
of Hades images opens as ``hades`` without asking, and a folder of other
images falls through to ``folder``. Opening by name
(``open_source(uri, source="hades")``) always uses it.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visionkit.exceptions import SourceNotFoundError
from visionkit.hookspecs import hookimpl
from visionkit.imageio import IMAGE_SUFFIXES
from visionkit.sources._options import as_bool, as_positive_int, check_known
from visionkit.sources._paths import find_frames
from visionkit.sources._uri import has_scheme
from visionkit.sources.files import ImageFilesSource
from visionkit.specs import SourceSpec

__all__ = ["HadesName", "HadesSource", "open_hades", "parse_hades_name"]

_HEAD = re.compile(
    r"^(?P<plate>\d+)_"
    r"(?P<experiment>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*?)-"
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:_(?P<tail>.*))?$"
)
_MASK = re.compile(r"_(?P<mask>[A-Za-z]+(?:_[A-Za-z]+)*)_mask$", re.IGNORECASE)
_BODY = re.compile(
    r"^(?:(?P<condition>.+)_)?(?P<replicate>\d+)"
    r"(?:-(?P<processing>[^_]+))?"
    r"(?:_(?P<extra>.+))?$"
)

_OPTIONS = frozenset({"max_pixels", "recursive", "skip_bad"})


@dataclass(frozen=True)
class HadesName:
    """The parts of a Hades file name.

    Attributes:
        raw: the file name as given (no folder).
        plate: plate number as written, e.g. ``"035"`` (leading zeros kept).
        experiment: experiment code, e.g. ``"43-14-ROOT1"``.
        date: the imaging date.
        condition: treatment, e.g. ``"pvd_OD01_f6h1"``; ``None`` if absent.
        replicate: replicate number as written, e.g. ``"03"``; ``None`` if absent.
        processing: e.g. ``"Fish Eye Corrected"``; ``None`` for a raw frame.
        mask: the label class for a mask file (``"root"``, ``"occluded_root"``),
            ``None`` for an image.
        extra: pieces after the known parts that could not be placed.
        suffix: the file suffix as written, e.g. ``".png"``; ``""`` if none.
    """

    raw: str
    plate: str
    experiment: str
    date: _dt.date
    condition: str | None = None
    replicate: str | None = None
    processing: str | None = None
    mask: str | None = None
    extra: tuple[str, ...] = ()
    suffix: str = ""

    @property
    def is_mask(self) -> bool:
        """True for a training label (``..._root_mask.tif``), not a frame."""
        return self.mask is not None

    @property
    def image_stem(self) -> str:
        """The stem of the image this name belongs to (a mask's image, or itself)."""
        stem = self.raw[: len(self.raw) - len(self.suffix)] if self.suffix else self.raw
        if self.mask is not None:
            stem = stem[: -len(f"_{self.mask}_mask")]
        return stem

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the date as ``YYYY-MM-DD``, ``extra`` as a list."""
        return {
            "raw": self.raw,
            "plate": self.plate,
            "experiment": self.experiment,
            "date": self.date.isoformat(),
            "condition": self.condition,
            "replicate": self.replicate,
            "processing": self.processing,
            "mask": self.mask,
            "extra": list(self.extra),
            "suffix": self.suffix,
        }


def parse_hades_name(name: str | os.PathLike[str]) -> HadesName | None:
    """Parse a Hades file name; ``None`` if it is not one.

    Any folder part is ignored. A name is a Hades name when it starts with
    ``<plate>_<experiment>-<YYYY-MM-DD>`` and the date is a real date.

    >>> parse_hades_name("12_67-8-ROOT2-2024-01-30_mock_OD0_f1h2_01.png").condition
    'mock_OD0_f1h2'
    >>> parse_hades_name("IMG_0042.jpg") is None
    True
    """
    raw = Path(name).name
    suffix = Path(raw).suffix
    if suffix.lower() not in IMAGE_SUFFIXES:
        suffix = ""
    head = _HEAD.match(raw[: len(raw) - len(suffix)] if suffix else raw)
    if head is None:
        return None
    try:
        date = _dt.date.fromisoformat(head["date"])
    except ValueError:
        return None
    tail = head["tail"] or ""
    mask = _MASK.search(tail)
    if mask is not None:
        tail = tail[: mask.start()]
    parts: dict[str, Any] = {}
    body = _BODY.match(tail)
    if body is not None:
        parts = {k: body[k] for k in ("condition", "replicate", "processing")}
        extra = body["extra"]
    else:
        extra = tail
    return HadesName(
        raw=raw,
        plate=head["plate"],
        experiment=head["experiment"],
        date=date,
        mask=mask["mask"].lower() if mask is not None else None,
        extra=tuple(p for p in (extra or "").split("_") if p),
        suffix=suffix,
        **parts,
    )


class HadesSource(ImageFilesSource):
    """Image files whose frames carry the parsed Hades name in ``metadata["hades"]``."""

    def _extra_metadata(self, path: Path) -> dict[str, Any]:
        parsed = parse_hades_name(path.name)
        return {"hades": parsed.to_dict() if parsed is not None else None}


def open_hades(uri: str, **options: Any) -> HadesSource:
    """Open a Hades image file, folder or glob.

    Options:
        recursive: for a folder, also read sub-folders (default false).
        skip_bad: warn and skip corrupt images instead of raising.
        max_pixels: refuse larger images.

    Raises:
        SourceNotFoundError: the path does not exist or names no images.
    """
    check_known("hades", options, _OPTIONS)
    recursive = as_bool("hades", "recursive", options.get("recursive", False))
    kwargs: dict[str, Any] = {}
    if "skip_bad" in options:
        kwargs["skip_bad"] = as_bool("hades", "skip_bad", options["skip_bad"])
    if options.get("max_pixels") is not None:
        kwargs["max_pixels"] = as_positive_int("hades", "max_pixels", options["max_pixels"])
    _, paths = find_frames(uri, recursive=recursive)
    return HadesSource(paths, name="hades", origin=uri, **kwargs)


@hookimpl
def visionkit_register_sources() -> list[SourceSpec]:
    """The ``hades`` source."""
    return [
        SourceSpec(
            "hades",
            open_hades,
            "NPEC Hades images (file, folder or glob) with plate/experiment/date parsed",
            ("hades_run/", "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png"),
        )
    ]


@hookimpl
def visionkit_open_source(uri: str, options: dict[str, Any]) -> HadesSource | None:
    """Claim a file, folder or glob that is asked for as Hades or is Hades-named."""
    options = dict(options)
    wanted = options.pop("source", None)
    if wanted is not None:
        return open_hades(uri, **options) if wanted == "hades" else None
    if has_scheme(uri):
        return None
    try:
        recursive = as_bool("hades", "recursive", options.get("recursive", False))
        _, paths = find_frames(uri, recursive=recursive, warn=False)
    except SourceNotFoundError:
        return None  # the files source gives the error, or another plugin claims it
    parsed = parse_hades_name(paths[0].name)
    if parsed is None or parsed.is_mask:
        return None
    return open_hades(uri, **options)
