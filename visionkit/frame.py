"""The unit a camera source yields: one image with where and when it came from."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Frame"]


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@dataclass
class Frame:
    """One image from a source.

    Attributes:
        image: the pixels, ``uint8``, shape ``(H, W)`` (grayscale) or ``(H, W, 3)``.
            Sources normalise bit depth so every frame is 8-bit.
        source_id: where it came from: a file path, a camera index or a URL.
        metadata: anything the source knows (e.g. parsed Hades file-name parts,
            the original bit depth).
        timestamp: when it was captured or read (UTC).
    """

    image: np.ndarray
    source_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    timestamp: _dt.datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not isinstance(self.image, np.ndarray) or self.image.ndim not in (2, 3):
            raise ValueError(
                f"Frame image from {self.source_id!r} must be a 2-D or 3-D numpy array"
            )

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.image.shape[1])

    @property
    def name(self) -> str:
        """A file-name-like label: the metadata's ``name`` or the source id's last part."""
        name = self.metadata.get("name")
        if isinstance(name, str) and name:
            return name
        tail = self.source_id.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
        return tail or "frame"

    @property
    def stem(self) -> str:
        """The name without its extension, used to name output files."""
        name = self.name
        return name.rsplit(".", 1)[0] if "." in name else name
