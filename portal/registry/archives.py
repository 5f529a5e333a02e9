"""Model archives: a zip of a model folder, checked before anything in it is loaded.

A model folder is ``model.safetensors`` (tensors only), ``config.json`` and
``MODEL_CARD.md``. An archive holding anything else executable or loadable
is refused by name before a byte of it is read as a model: pickles above
all (``.pt``, ``.pth``, ``.pkl``, ``.ckpt``, ``.bin``, and any file that
starts like one), so an uploaded model can never run code on the portal.
Ready ONNX exports (``model.onnx``, ``model-int8.onnx``, from ``visionkit
export``) are accepted in an archive but left out: an uploaded graph is
never parsed or run; the workers make their own from the weights.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.conf import settings

from portal.common.archives import ZipLimits, extract_zip
from portal.common.uploads import check_size
from portal.registry.services import EXPORT_FILES, MODEL_FILES, RegistryError

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

__all__ = ["PICKLE_SUFFIXES", "model_folder_from_zip"]

#: Suffixes of files that torch or pickle would load by running code.
PICKLE_SUFFIXES = frozenset({".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".joblib", ".npy"})
#: Other files a model folder may carry: read as text, never loaded.
HARMLESS = frozenset({"readme.md", "metrics.json", "train_config.yaml", "license"})
_REQUIRED = ("model.safetensors", "config.json")

logger = logging.getLogger(__name__)


def _looks_pickled(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _root(folder: Path) -> Path:
    entries = [p for p in folder.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def _problems(root: Path) -> list[str]:
    problems: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() in PICKLE_SUFFIXES or (
            path.name != "model.safetensors" and _looks_pickled(path)
        ):
            problems.append(f"{rel}: a pickle (or a file torch loads by unpickling); "
                            "export the weights as model.safetensors")  # fmt: skip
        elif path.name == "model.safetensors" and _looks_pickled(path):
            problems.append(f"{rel}: a pickle named model.safetensors; save real safetensors")
        elif rel not in MODEL_FILES and rel not in EXPORT_FILES and rel.lower() not in HARMLESS:
            problems.append(f"{rel}: not part of a model folder ({', '.join(MODEL_FILES)})")
    for required in _REQUIRED:
        if not (root / required).is_file():
            problems.append(f"{required}: missing; a model folder needs {' and '.join(_REQUIRED)}")
    return problems


@contextmanager
def model_folder_from_zip(upload: UploadedFile | IO[bytes]) -> Iterator[Path]:
    """Unpack a model archive into a temporary folder and yield the model folder in it.

    Raises:
        TooLarge: over ``VISIONKIT_MAX_MODEL_MB``.
        ArchiveError: not a zip, or an unsafe one.
        RegistryError: a pickle or a stray file inside, or a required file missing
            (``problems`` names each).

    The yielded folder holds no ONNX export, even where the archive had one.
    """
    limit = int(settings.VISIONKIT_MAX_MODEL_BYTES)
    if getattr(upload, "size", None) is not None:
        check_size(upload, limit=limit, setting="VISIONKIT_MAX_MODEL_MB")
    with tempfile.TemporaryDirectory(prefix="visionkit-model-") as scratch:
        extract_zip(upload, scratch, limits=ZipLimits(max_members=20, max_member_bytes=limit,
                                                      max_total_bytes=limit))  # fmt: skip
        root = _root(Path(scratch))
        problems = _problems(root)
        if problems:
            raise RegistryError(
                "the model archive was refused (nothing in it was loaded): " + "; ".join(problems),
                problems=problems,
            )
        for name in EXPORT_FILES:
            if (root / name).is_file():
                (root / name).unlink()
                logger.info("left %s out of an uploaded model: uploaded graphs are never run", name)
        yield root
