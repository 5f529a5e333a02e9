"""The plugin module named by the ``visionkit`` entry point: registers ``ot2``.

It uses only visionkit's public plugin API (``hookimpl`` and
:class:`~visionkit.specs.AdapterSpec`) and imports the adapter itself only
when one is created, so listing plugins stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from visionkit import hookimpl
from visionkit.specs import AdapterSpec

if TYPE_CHECKING:
    from visionkit_ot2.adapter import Ot2Adapter

__all__ = ["create_ot2_adapter", "visionkit_register_adapters"]


def create_ot2_adapter(out_dir: str | Path | None = None, **options: Any) -> Ot2Adapter:
    """Create the ``ot2`` adapter; see :class:`visionkit_ot2.options.Ot2Options`."""
    from visionkit_ot2.adapter import Ot2Adapter

    return Ot2Adapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``ot2`` adapter."""
    return [
        AdapterSpec(
            "ot2",
            create_ot2_adapter,
            "Opentrons OT-2 protocol that inoculates each found root tip "
            "(<stem>.ot2.py and .ot2.json).",
        )
    ]
