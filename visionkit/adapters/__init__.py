"""Built-in output adapters, and the small helpers they share.

Each adapter is a plugin module registered through
``visionkit_register_adapters``, exactly as a third party's would be:

``json``
    one contract JSON per image, plus mask PNGs (:mod:`.json_adapter`);
``csv``
    one row per plant, each image once across runs (:mod:`.csv_adapter`);
``coco``
    a COCO keypoints file of every image, written on close (:mod:`.coco`);
``webhook``
    POSTs each prediction's JSON to a URL with retries (:mod:`.webhook`).

Create one by name with :func:`visionkit.plugins.create_adapter`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from visionkit.exceptions import AdapterError

__all__ = ["check_options", "output_dir", "write_text_atomic"]


def check_options(adapter: str, options: Mapping[str, Any], valid: Iterable[str]) -> None:
    """Refuse options an adapter does not know, listing the ones it does.

    Raises:
        AdapterError: ``options`` holds a key outside ``valid`` (a typo, most
            likely).
    """
    known = sorted(valid)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise AdapterError(
            f"unknown option {unknown[0]!r} for adapter {adapter!r}; "
            f"valid options are: {', '.join(known) or '(none)'}"
        )


#: The words :func:`parse_flag` reads as on and as off.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_flag(value: Any) -> bool | None:
    """An on/off option's value as a bool, from Python or from CLI text; ``None`` if neither.

    Adapter options arrive as text from ``--adapter-option json.masks=false``,
    where ``bool("false")`` would be true; every adapter reads them through
    here and words its own error for ``None``.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None


def parse_int(value: Any) -> int | None:
    """A whole-number option's value, from Python or from CLI text; ``None`` if neither.

    ``True`` is not taken for 1.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def output_dir(adapter: str, out_dir: str | os.PathLike[str] | None) -> Path:
    """The folder an adapter writes to, created if needed (default: the current folder).

    Raises:
        AdapterError: the path exists but is not a folder, or cannot be created.
    """
    folder = Path.cwd() if out_dir is None else Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise AdapterError(
            f"adapter {adapter!r}: output path {folder} is a file, not a folder; "
            f"give a folder with --out"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdapterError(
            f"adapter {adapter!r}: cannot create output folder {folder}: {exc}"
        ) from exc
    return folder


def _public_mode() -> int:
    """0666 less the process umask: the mode ``open()`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_PUBLIC_MODE = _public_mode()


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` so readers see the old file or the whole new one.

    The text goes to a temporary file in the same folder, is flushed to disk,
    then renamed over ``path``; a full disk, an encoding error or a crash
    leaves any earlier file untouched and no half-written one behind.

    Raises:
        AdapterError: the file cannot be written; names the file.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _PUBLIC_MODE)  # mkstemp makes 0600; results are for others too
        os.replace(tmp, path)
    except (OSError, UnicodeError) as exc:
        raise AdapterError(f"cannot write {path}: {exc}") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
