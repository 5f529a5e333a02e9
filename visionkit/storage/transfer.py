"""Push a folder to a storage and pull it back, by its manifest, verifying every file.

A *data set version* (a folder with ``manifest.json``, :mod:`visionkit.data.manifest`)
is pushed file by file as its manifest lists them, then the manifest itself,
last: a reader who finds the manifest finds every file it names. A folder
without a manifest (a model folder: ``model.safetensors``, ``config.json``,
``MODEL_CARD.md``; or any artifact folder) is pushed file by file, each
blob carrying its sha256 as metadata.

Both directions skip what is already there with the same sha256, resume a
killed transfer (blocks already staged, a partial download), and verify
each file's sha256: pushing, the local files must still match their
manifest; pulling, each download is checked before it is renamed into place.
A corrupt stored file is reported by name and nothing that verified is
touched; the local manifest is written only when every file verified.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from visionkit.data.manifest import MANIFEST_NAME, FileEntry, Manifest
from visionkit.exceptions import IntegrityError, StorageError
from visionkit.storage._digest import sha256_path
from visionkit.storage.base import Storage, check_key

__all__ = ["Progress", "TransferReport", "folder_entries", "pull_folder", "push_folder"]

logger = logging.getLogger(__name__)

#: ``progress(action, key)`` with action ``"sent"``, ``"skipped"`` or ``"verified"``.
Progress = Callable[[str, str], None]


@dataclass
class TransferReport:
    """What a push or a pull did, file by file.

    Attributes:
        source, target: where from and where to (URLs or folders, no secrets).
        version: the data set version (from the manifest), if there is one.
        sent: keys transferred this time.
        skipped: keys already present with the same sha256.
        verified: keys whose sha256 was checked (all of them, on success).
        bytes_sent: bytes moved this time.
        blocks_sent, blocks_reused: staged blocks sent, and found staged by a
            killed earlier push (Blob Storage).
    """

    source: str
    target: str
    version: str | None = None
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    blocks_sent: int = 0
    blocks_reused: int = 0

    def summary(self) -> str:
        """One line: counts of sent, skipped and verified files and bytes moved."""
        resumed = f", {self.blocks_reused} blocks resumed" if self.blocks_reused else ""
        return (
            f"{self.source} -> {self.target}: {len(self.sent)} sent, {len(self.skipped)} "
            f"skipped (already there), {len(self.verified)} verified, "
            f"{self.bytes_sent:,} bytes{resumed}"
        )


def _hashed_files(folder: Path) -> list[FileEntry]:
    """Every non-hidden file below ``folder`` with its size and sha256, sorted by path."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath, name)
            if name.startswith(".") or not path.is_file():
                continue
            rel = path.relative_to(folder).as_posix()
            entries.append(FileEntry(rel, path.stat().st_size, sha256_path(path)))
    return sorted(entries, key=lambda e: e.path)


def folder_entries(folder: str | os.PathLike[str]) -> tuple[list[FileEntry], Manifest | None]:
    """The files to push from ``folder``, and its manifest if it has one.

    With ``manifest.json``, the files are the manifest's, each checked
    against it; without, every non-hidden file, hashed now.

    Raises:
        StorageError: ``folder`` is not a folder, or is empty.
        IntegrityError: a file is missing or differs from the manifest
            (write the manifest again with ``visionkit data manifest``).
    """
    root = Path(folder)
    if not root.is_dir():
        raise StorageError(f"{root}: no such folder; check the path")
    manifest_file = root / MANIFEST_NAME
    if not manifest_file.is_file():
        entries = _hashed_files(root)
        if not entries:
            raise StorageError(f"{root}: the folder holds no files to push")
        return entries, None
    try:
        manifest = Manifest.read(manifest_file)
    except ValueError as exc:
        raise StorageError(str(exc)) from exc
    problems = []
    for entry in manifest.files:
        path = root / check_key(entry.path)
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif path.stat().st_size != entry.size or sha256_path(path) != entry.sha256:
            problems.append(f"{entry.path}: changed")
    if problems:
        raise IntegrityError(
            f"{root}: {len(problems)} file(s) differ from {MANIFEST_NAME} ("
            + "; ".join(problems[:5])
            + f"); run `visionkit data manifest {root}` to write a new data version",
            key=problems[0].split(":")[0],
        )
    return list(manifest.files), manifest


def push_folder(
    folder: str | os.PathLike[str], storage: Storage, *, progress: Progress | None = None
) -> TransferReport:
    """Upload ``folder`` to ``storage``: its manifest's files (or every file), manifest last.

    Raises:
        StorageError: the storage refuses (missing container, bad credentials).
        IntegrityError: a local file differs from its manifest.
    """
    root = Path(folder)
    entries, manifest = folder_entries(root)
    report = TransferReport(
        source=str(root), target=storage.url, version=manifest.version if manifest else None
    )
    keys = [(entry.path, entry.sha256) for entry in entries]
    if manifest is not None:
        keys.append((MANIFEST_NAME, sha256_path(root / MANIFEST_NAME)))
    for index, (key, digest) in enumerate(keys, 1):
        result = storage.put_file(key, root / key, sha256=digest)
        action = "skipped" if result.skipped else "sent"
        (report.skipped if result.skipped else report.sent).append(key)
        report.verified.append(key)
        report.bytes_sent += result.bytes_sent
        report.blocks_sent += result.blocks_sent
        report.blocks_reused += result.blocks_reused
        logger.info("push %d/%d %s: %s", index, len(keys), action, key)
        if progress is not None:
            progress(action, key)
    logger.info("%s", report.summary())
    return report


def _remote_entries(storage: Storage) -> tuple[list[FileEntry], bytes | None]:
    """What is stored: the stored manifest's files (and its bytes), or every blob's record."""
    if storage.exists(MANIFEST_NAME):
        data = storage.read_bytes(MANIFEST_NAME)
        with tempfile.TemporaryDirectory(prefix="visionkit-manifest-") as scratch:
            path = Path(scratch, MANIFEST_NAME)
            path.write_bytes(data)
            try:
                manifest = Manifest.read(path)
            except ValueError as exc:
                raise StorageError(f"{storage.url}/{MANIFEST_NAME}: {exc}") from exc
        return list(manifest.files), data
    stored = storage.list()
    if not stored:
        raise StorageError(f"{storage.url}: nothing is stored there; check the URL")
    entries, unknown = [], []
    for item in stored:
        digest = item.sha256 or storage.sha256(item.key)
        if digest is None:
            unknown.append(item.key)
        else:
            entries.append(FileEntry(item.key, item.size, digest))
    if unknown:
        raise StorageError(
            f"{storage.url}: {len(unknown)} file(s) have no recorded sha256 to verify "
            f"({', '.join(unknown[:3])}); store them with `visionkit data push`"
        )
    return entries, None


def _already_there(local: Path, entry: FileEntry) -> bool:
    """True if ``local`` holds exactly the entry's content (size first: cheap)."""
    return (
        local.is_file()
        and local.stat().st_size == entry.size
        and sha256_path(local) == entry.sha256
    )


def pull_folder(
    storage: Storage, folder: str | os.PathLike[str], *, progress: Progress | None = None
) -> TransferReport:
    """Download what ``storage`` holds into ``folder``, verifying every file's sha256.

    Files already in ``folder`` with the right sha256 are skipped; a partial
    download left by a killed pull is resumed. Every file that verifies is
    kept even when another does not.

    Raises:
        StorageError: nothing stored, or the storage refuses.
        IntegrityError: some stored files are corrupt (all are named); the
            good ones are in place, the manifest is not written.
    """
    root = Path(folder)
    entries, manifest_bytes = _remote_entries(storage)
    report = TransferReport(source=storage.url, target=str(root))
    if manifest_bytes is not None:
        report.version = json.loads(manifest_bytes).get("version")
    corrupt: list[str] = []
    for index, entry in enumerate(entries, 1):
        local = root / check_key(entry.path)
        if _already_there(local, entry):
            report.skipped.append(entry.path)
            report.verified.append(entry.path)
            if progress is not None:
                progress("skipped", entry.path)
            continue
        try:
            storage.get_file(entry.path, local, sha256=entry.sha256)
        except IntegrityError as exc:
            logger.error("%s", exc)
            corrupt.append(entry.path)
            continue
        report.sent.append(entry.path)
        report.verified.append(entry.path)
        report.bytes_sent += entry.size
        logger.info("pull %d/%d verified: %s", index, len(entries), entry.path)
        if progress is not None:
            progress("verified", entry.path)
    if corrupt:
        raise IntegrityError(
            f"{storage.url}: {len(corrupt)} stored file(s) do not match their sha256: "
            f"{', '.join(corrupt)}; they were not written, the {len(report.verified)} good "
            f"file(s) are in {root}; push the bad ones again",
            key=corrupt[0],
        )
    if manifest_bytes is not None:
        target = root / MANIFEST_NAME
        tmp = target.with_name(f".{MANIFEST_NAME}.part")
        tmp.write_bytes(manifest_bytes)
        os.replace(tmp, target)
    logger.info("%s", report.summary())
    return report
