"""Checks on uploaded files before anything is kept: size limits and readable images."""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.core.files import File

from portal.common.errors import TooLarge

__all__ = ["check_size", "human_size", "max_upload_bytes"]


def max_upload_bytes() -> int:
    """The largest upload accepted (``VISIONKIT_MAX_UPLOAD_MB``)."""
    return int(settings.VISIONKIT_MAX_UPLOAD_BYTES)


def human_size(size: int) -> str:
    """``"512 bytes"``, ``"3.2 MB"``: a size as a person reads it."""
    if size < 1024 * 1024:
        return f"{size} bytes"
    return f"{size / 1024 / 1024:.1f} MB"


def check_size(
    upload: File[Any] | IO[bytes],
    *,
    limit: int | None = None,
    setting: str = "VISIONKIT_MAX_UPLOAD_MB",
) -> None:
    """Refuse an upload over ``limit`` bytes (default: :func:`max_upload_bytes`).

    ``setting`` names the environment variable that raises the limit, for the message.
    A file object without a known ``size`` passes; its reader checks what it read.

    Raises:
        TooLarge: naming the file's size, the limit, and the setting that raises it.
    """
    limit = max_upload_bytes() if limit is None else limit
    size = getattr(upload, "size", None) or 0
    if size > limit:
        name = getattr(upload, "name", None) or "the upload"
        raise TooLarge(
            f"{name} is {human_size(size)}; the limit is {human_size(limit)} "
            f"(an admin can raise it with {setting})"
        )
