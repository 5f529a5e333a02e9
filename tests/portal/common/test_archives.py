"""Uploaded zips are unpacked only when every member is safe, and a refusal leaves nothing."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from portal.common.archives import ZipLimits, extract_zip
from portal.common.errors import ArchiveError


def _zip(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    buffer.seek(0)
    return buffer


def _files(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_safe_zip_unpacks_every_file(tmp_path: Path) -> None:
    written = extract_zip(_zip({"a.txt": b"a", "plates/b.png": b"b"}), tmp_path / "out")
    assert sorted(p.name for p in written) == ["a.txt", "b.png"]
    assert (tmp_path / "out" / "plates" / "b.png").read_bytes() == b"b"


@pytest.mark.parametrize(
    ("members", "said"),
    [
        ({"../evil.txt": b"x"}, "'..' would write outside"),
        ({"ok/../../evil.txt": b"x"}, "'..' would write outside"),
        ({"/etc/evil": b"x"}, "an absolute path"),
        ({"C:/evil": b"x"}, "an absolute path"),
    ],
)
def test_paths_that_leave_the_folder_are_refused(
    tmp_path: Path, members: dict[str, bytes], said: str
) -> None:
    with pytest.raises(ArchiveError, match=said) as refused:
        extract_zip(_zip({"fine.txt": b"f", **members}), tmp_path / "out")
    assert refused.value.problems
    assert _files(tmp_path) == []


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="symbolic link"):
        extract_zip(_zip({"a.txt": b"a"}, links={"link": "/etc/passwd"}), tmp_path / "out")
    assert _files(tmp_path) == []


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError) as refused:
        extract_zip(
            _zip({"../a": b"1", "/b": b"2"}, links={"c": "/x"}),
            tmp_path / "out",
            limits=ZipLimits(max_members=2),
        )
    problems = " | ".join(refused.value.problems)
    for said in ("3 members; at most 2", "'..'", "absolute path", "symbolic link"):
        assert said in problems


def test_too_many_or_too_large_members_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="at most 3 are accepted"):
        extract_zip(_zip({f"{i}.txt": b"x" for i in range(4)}), tmp_path / "a",
                    limits=ZipLimits(max_members=3))  # fmt: skip
    with pytest.raises(ArchiveError, match="the limit is 100 bytes per file"):
        extract_zip(
            _zip({"big": b"0" * 101}), tmp_path / "b", limits=ZipLimits(max_member_bytes=100)
        )
    with pytest.raises(ArchiveError, match="in all"):
        extract_zip(_zip({"a": b"0" * 60, "b": b"0" * 60}), tmp_path / "c",
                    limits=ZipLimits(max_total_bytes=100))  # fmt: skip
    assert _files(tmp_path) == []


def test_a_member_that_lies_about_its_size_is_not_unpacked(tmp_path: Path) -> None:
    data = bytearray(_zip({"small.txt": b"ok", "bomb.bin": b"0" * 10_000}).getvalue())
    entry = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)  # bomb.bin's central entry
    size_at = entry + 24  # its uncompressed size
    assert int.from_bytes(data[size_at : size_at + 4], "little") == 10_000
    data[size_at : size_at + 4] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveError, match="bomb.bin"):
        extract_zip(
            io.BytesIO(bytes(data)), tmp_path / "out", limits=ZipLimits(max_member_bytes=100)
        )
    assert _files(tmp_path) == []


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a readable zip"):
        extract_zip(io.BytesIO(b"plain text"), tmp_path / "out")


def test_a_refusal_keeps_what_was_in_an_existing_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("mine")
    with pytest.raises(ArchiveError):
        extract_zip(_zip({"a": b"0" * 50, "b": b"0" * 200}), out,
                    limits=ZipLimits(max_member_bytes=100))  # fmt: skip
    assert _files(out) == ["kept.txt"]
