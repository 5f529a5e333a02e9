"""What a plugin registers: a name, a factory and a one-line description.

The register hooks return lists of these. They are plain data so listing
plugins never imports torch or opens a camera.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from visionkit.adapters.base import Adapter
    from visionkit.sources.base import Source

__all__ = ["AdapterSpec", "ArchitectureSpec", "SourceSpec"]


@dataclass(frozen=True)
class SourceSpec:
    """A camera source.

    Attributes:
        name: unique source name, e.g. ``"folder"``.
        open: ``open(uri, **options) -> Source``.
        description: one line for ``visionkit sources``.
        examples: URIs this source accepts, shown in listings.
    """

    name: str
    open: Callable[..., Source]
    description: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdapterSpec:
    """An output adapter.

    Attributes:
        name: unique adapter name, e.g. ``"json"``.
        create: ``create(out_dir=None, **options) -> Adapter``.
        description: one line for ``visionkit adapters``.
    """

    name: str
    create: Callable[..., Adapter]
    description: str = ""


@dataclass(frozen=True)
class ArchitectureSpec:
    """A segmentation model architecture.

    Attributes:
        name: unique architecture name, e.g. ``"unet"``.
        build: ``build(in_channels, classes, **params) -> torch.nn.Module``;
            must import torch inside its body.
        description: one line for ``visionkit architectures``.
        defaults: default keyword parameters (encoder name and so on) that a
            saved ``config.json`` records so the model can be rebuilt.
    """

    name: str
    build: Callable[..., Any]
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
