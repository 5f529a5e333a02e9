"""The hooks a visionkit plugin can implement, and the markers to implement them.

A plugin is any module or object with functions decorated by
:data:`hookimpl` whose names match the specs below. Built-in sources, model
architectures and output adapters are plugins of exactly this kind; a third
party ships its own through the ``visionkit`` entry-point group::

    from visionkit import hookimpl
    from visionkit.specs import AdapterSpec

    @hookimpl
    def visionkit_register_adapters():
        return [AdapterSpec("ot2", make_ot2_adapter, "Opentrons OT-2 protocol")]

The docs hold one section per hook whose heading is its exact signature
(``docs/plugins.md``); a test keeps the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from visionkit.sources.base import Source
    from visionkit.specs import AdapterSpec, ArchitectureSpec, SourceSpec

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "visionkit"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def visionkit_register_sources() -> list[SourceSpec]:
    """Register camera sources that yield frames.

    Returns:
        A list of :class:`~visionkit.specs.SourceSpec`, one per source name.
        Names must be unique across all plugins.
    """


@hookspec
def visionkit_register_architectures() -> list[ArchitectureSpec]:
    """Register model architectures that training and inference can build.

    Returns:
        A list of :class:`~visionkit.specs.ArchitectureSpec`. The build
        function must import heavy libraries (torch, smp) inside its body so
        that listing architectures stays fast.
    """


@hookspec
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register output adapters that deliver predictions somewhere.

    Returns:
        A list of :class:`~visionkit.specs.AdapterSpec`, one per adapter name.
    """


@hookspec(firstresult=True)
def visionkit_open_source(uri: str, options: dict[str, Any]) -> Source | None:
    """Open a source for a URI, if this plugin knows how.

    Called for each plugin until one returns a source: return ``None`` to let
    the next plugin try. Built-in file and folder sources run last, so a
    plugin can claim a URI they would also accept.

    Args:
        uri: a path, glob, camera index, video file or URL as the user typed it.
        options: source options from the caller (e.g. ``{"recursive": True}``).

    Returns:
        An opened :class:`~visionkit.sources.base.Source`, or ``None``.
    """
