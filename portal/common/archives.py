"""Unpacking uploaded zips without trusting them.

:func:`extract_zip` refuses, listing every finding at once, a zip whose
members would leave the target folder (``../``, absolute paths, drive
letters), are symbolic links or devices, are encrypted, repeat a name, are
too many, or would unpack larger than the limits. Sizes are counted as the
bytes come out, not taken from the zip's own headers, so a member that lies
about its size is stopped at the limit. Whatever was written is removed when
anything goes wrong, so a refused zip leaves nothing behind.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from portal.common.errors import ArchiveError
from portal.common.uploads import human_size

__all__ = ["ZipLimits", "extract_zip"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """How much an uploaded zip may hold."""

    max_members: int = 5000
    max_member_bytes: int = 500 * 1024 * 1024
    max_total_bytes: int = 4 * 1024 * 1024 * 1024


def _member_problems(info: zipfile.ZipInfo, seen: set[str]) -> list[str]:
    name = info.filename
    problems = []
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        problems.append(f"{name}: an absolute path; members must be relative to the zip")
    if ".." in path.parts:
        problems.append(f"{name}: '..' would write outside the folder")
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix file type recorded (a plain file)
    if kind == stat.S_IFLNK:
        problems.append(f"{name}: a symbolic link; zip the files themselves")
    elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        problems.append(f"{name}: not a regular file")
    if info.flag_bits & 0x1:
        problems.append(f"{name}: encrypted; upload an unencrypted zip")
    key = path.as_posix().lower()
    if key in seen:
        problems.append(f"{name}: appears twice in the zip")
    seen.add(key)
    return problems


def extract_zip(
    source: str | Path | IO[bytes], target: str | Path, *, limits: ZipLimits = ZipLimits()
) -> list[Path]:
    """Unpack ``source`` into the folder ``target`` (created) and return the files written.

    Raises:
        ArchiveError: not a zip, or unsafe or too large; ``problems`` lists every finding.
    """
    dest = Path(target)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"not a readable zip file ({exc}); upload a .zip archive") from exc
    with archive:
        members = archive.infolist()
        problems: list[str] = []
        if len(members) > limits.max_members:
            problems.append(f"{len(members)} members; at most {limits.max_members} are accepted")
        seen: set[str] = set()
        for info in members:
            problems.extend(_member_problems(info, seen))
            if info.file_size > limits.max_member_bytes:
                problems.append(
                    f"{info.filename}: {human_size(info.file_size)} unpacked; the limit is "
                    f"{human_size(limits.max_member_bytes)} per file"
                )
        declared = sum(info.file_size for info in members)
        if declared > limits.max_total_bytes:
            problems.append(
                f"{human_size(declared)} unpacked in all; the limit is "
                f"{human_size(limits.max_total_bytes)}"
            )
        if problems:
            raise ArchiveError("the zip was refused: " + "; ".join(problems), problems=problems)
        made = not dest.exists()
        dest.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        try:
            total = 0
            for info in members:
                if info.is_dir():
                    continue
                out = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
                if not out.resolve().is_relative_to(dest.resolve()):  # belt and braces
                    raise ArchiveError(f"{info.filename}: would write outside the folder")
                out.parent.mkdir(parents=True, exist_ok=True)
                total = _copy_member(archive, info, out, total, limits)
                written.append(out)
        except BaseException:
            if made:
                shutil.rmtree(dest, ignore_errors=True)
            else:
                for path in written:
                    path.unlink(missing_ok=True)
            raise
    return written


def _copy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: Path, total: int, limits: ZipLimits
) -> int:
    """Copy one member, counting real bytes against the limits; returns the new total."""
    size = 0
    try:
        with archive.open(info) as src, out.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                size += len(chunk)
                total += len(chunk)
                if size > limits.max_member_bytes or total > limits.max_total_bytes:
                    raise ArchiveError(
                        f"{info.filename}: unpacks larger than its header says and over the "
                        f"limit ({human_size(limits.max_member_bytes)} a file, "
                        f"{human_size(limits.max_total_bytes)} in all)"
                    )
                dst.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        out.unlink(missing_ok=True)
        raise ArchiveError(f"{info.filename}: cannot be unpacked ({exc})") from exc
    return total
