"""Writes of the datasets app: check a labelled data set and store it as a version.

A data set arrives as a zip (``POST /api/datasets/``) or a local folder
(``manage.py seed_demo``, ``manage.py train``). It is unpacked safely
(:func:`portal.common.archives.extract_zip`), checked against the Hades mask
convention with :func:`visionkit.data.validate_folder` (every problem is
reported at once, as a 400), described by
:func:`visionkit.data.manifest.build_manifest`, and stored under
``datasets/<version>/`` in the portal's file storage, where ``<version>`` is
the manifest hash of its files, the same string ``visionkit data manifest``
prints and a training run records. The same files uploaded twice are one
version. A refused or failed upload leaves no row and no file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction

from portal.common.archives import ZipLimits, extract_zip
from portal.common.errors import PortalError
from portal.common.storage import remove_files, store_files
from portal.common.uploads import check_size
from portal.datasets.models import DatasetVersion

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from portal.accounts.models import User

__all__ = ["create_dataset_from_folder", "create_dataset_from_zip", "download_dataset"]

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
#: Most files a data set zip may hold (a plate is an image, four masks and landmarks).
MAX_MEMBERS = 20_000
#: How much larger than the upload limit a data set may be once unpacked (masks compress well).
UNPACKED_FACTOR = 20


def _data_root(folder: Path) -> Path:
    """The zip's data folder: its root, or the one folder everything is in."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def _relative(messages: list[str], root: Path) -> list[str]:
    """Messages with the scratch folder's path taken out: users know their files by name."""
    prefixes = (f"{root}{os.sep}", str(root))
    out = []
    for message in messages:
        for prefix in prefixes:
            message = message.replace(prefix, "")
        out.append(message.lstrip(": ") or message)
    return out


def create_dataset_from_zip(
    *,
    upload: UploadedFile | IO[bytes],
    name: str = "",
    description: str = "",
    user: User | None,
) -> tuple[DatasetVersion, bool]:
    """Check and store a zipped data set; ``(version, created)`` (``False``: already stored).

    Raises:
        TooLarge: the zip is over ``VISIONKIT_MAX_DATASET_MB``.
        ArchiveError: not a zip, or an unsafe one.
        PortalError: the files break the Hades mask convention; ``problems`` lists them all.
    """
    limit = int(settings.VISIONKIT_MAX_DATASET_BYTES)
    if getattr(upload, "size", None) is not None:
        check_size(upload, limit=limit, setting="VISIONKIT_MAX_DATASET_MB")
    label = name or Path(getattr(upload, "name", "") or "dataset.zip").stem
    # Unpacked, no file may be larger than the upload limit and all of them together no
    # more than UNPACKED_FACTOR times it: a zip bomb stops at its header or within a block.
    limits = ZipLimits(max_members=MAX_MEMBERS, max_member_bytes=limit,
                       max_total_bytes=UNPACKED_FACTOR * limit)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="visionkit-dataset-") as scratch:
        extract_zip(upload, scratch, limits=limits)
        return create_dataset_from_folder(
            folder=_data_root(Path(scratch)), name=label, description=description, user=user
        )


def create_dataset_from_folder(
    *, folder: str | os.PathLike[str], name: str, description: str = "", user: User | None
) -> tuple[DatasetVersion, bool]:
    """Check and store a data set folder; ``(version, created)``.

    Raises:
        PortalError: the folder breaks the Hades mask convention (``problems`` lists all).
    """
    from visionkit.data import validate_folder
    from visionkit.data.manifest import build_manifest

    root = Path(folder)
    report = validate_folder(root)
    if not report.ok:
        problems = _relative(report.problems, root)
        raise PortalError(
            f"the data set has {len(problems)} problem(s) with the Hades mask convention; "
            "fix them and upload it again",
            problems=problems,
        )
    manifest = build_manifest(root, report=report)
    existing = DatasetVersion.objects.filter(version=manifest.version).first()
    if existing is not None:
        logger.info("data set %s is stored already (id %s)", manifest.version[:12], existing.pk)
        return existing, False
    prefix = f"datasets/{manifest.version}"
    stored: list[str] = []
    try:
        stored = store_files(root, prefix, [entry.path for entry in manifest.files])
        manifest_file = ContentFile(manifest.to_json().encode())
        stored.append(storages["default"].save(f"{prefix}/{MANIFEST}", manifest_file))
        with transaction.atomic():
            created = DatasetVersion.objects.create(
                version=manifest.version,
                name=name[:200] or manifest.version[:12],
                description=description,
                prefix=prefix,
                manifest=manifest.to_dict() | {"root": ""},
                n_images=manifest.n_images,
                n_masks=manifest.n_masks,
                size_bytes=sum(entry.size for entry in manifest.files),
                warnings=_relative(report.warnings, root),
                created_by=user,
            )
    except IntegrityError:  # the same files stored by a concurrent upload
        remove_files(stored)
        return DatasetVersion.objects.get(version=manifest.version), False
    except BaseException:
        remove_files(stored)
        raise
    logger.info("data set %s stored: %d images, %d masks", created.version[:12],
                created.n_images, created.n_masks)  # fmt: skip
    from portal.jobs.retraining import on_dataset

    transaction.on_commit(lambda: on_dataset(created))
    return created, True


def download_dataset(*, dataset: DatasetVersion, target: Path) -> Path:
    """Copy a stored version's files into the local folder ``target``, checking each sha256.

    Jobs call it in the worker: the storage may be remote (Blob Storage).

    Raises:
        PortalError: a file is missing from the storage or differs from the manifest.
    """
    storage = storages["default"]
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for entry in dataset.manifest.get("files", []):
        rel, want = entry["path"], entry["sha256"]
        name = f"{dataset.prefix}/{rel}"
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with storage.open(name, "rb") as src, out.open("wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    digest.update(block)
                    dst.write(block)
        except FileNotFoundError as exc:
            raise PortalError(f"data set {dataset.version[:12]}: {rel} is missing from the "
                              "file storage; upload the data set again") from exc  # fmt: skip
        if digest.hexdigest() != want:
            raise PortalError(
                f"data set {dataset.version[:12]}: {rel} differs from its manifest (sha256); "
                "the stored copy was changed, upload the data set again"
            )
    return target
