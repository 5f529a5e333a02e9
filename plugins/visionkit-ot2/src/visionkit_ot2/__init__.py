"""visionkit-ot2: turn visionkit's root tips into Opentrons OT-2 protocols.

Installing this package adds the ``ot2`` output adapter to visionkit through
the ``visionkit`` entry-point group; nothing needs configuring. The adapter
writes, per image, ``<stem>.ot2.py`` (a protocol for the OT-2 app or
``opentrons_simulate``) and ``<stem>.ot2.json`` (the targets it holds).

This module stays light: importing it (which ``visionkit plugins`` does)
imports nothing but the standard library.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]

try:
    __version__ = metadata.version("visionkit-ot2")
except metadata.PackageNotFoundError:  # pragma: no cover - only from a bare source tree
    __version__ = "0+unknown"
