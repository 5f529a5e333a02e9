"""Helpers the storage tests share."""

from __future__ import annotations

from pathlib import Path

__all__ = ["tree"]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) by relative path -> content."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
