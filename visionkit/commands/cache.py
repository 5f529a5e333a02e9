"""``visionkit cache list|prune``: what the ONNX export cache holds; remove what is not needed.

See :mod:`visionkit.inference.cache` for what is kept and what pruning removes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from visionkit.inference.cache import CacheEntry

__all__ = ["cache"]

_MIB = 2**20


@click.group()
def cache() -> None:
    """List the ONNX export cache ($VISIONKIT_CACHE/onnx) and prune it."""


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _rows(found: Sequence[CacheEntry]) -> list[dict[str, object]]:
    return [
        {
            "file": entry.path.name,
            "kind": entry.kind,
            "weights": entry.weights,
            "size_bytes": entry.size,
            "last_used": _when(entry.used),
        }
        for entry in found
    ]


@cache.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(as_json: bool) -> None:
    """List the cached exports, least recently used first, with their sizes."""
    from visionkit.inference.cache import cache_dir, entries

    folder = cache_dir()
    found = entries(folder)
    if as_json:
        click.echo(json.dumps({"folder": str(folder), "files": _rows(found)}, indent=2))
        return
    click.echo(f"{folder}: {len(found)} file(s), {sum(e.size for e in found) / _MIB:.1f} MiB")
    for entry in found:
        weights = (entry.weights or "-")[:12]
        click.echo(
            f"  {entry.kind:<9} {weights:<12} {entry.size / _MIB:7.1f} MiB  "
            f"used {_when(entry.used)}  {entry.path.name}"
        )


@cache.command()
@click.option(
    "--unused-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Also remove exports not used for this many days.",
)
@click.option(
    "--all", "everything", is_flag=True, help="Remove every cached export (rebuilt when needed)."
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def prune(unused_days: float | None, everything: bool, dry_run: bool) -> None:
    """Remove exports nothing will read again: stale formats and interrupted writes.

    A removed export is built again the next time its model runs.
    """
    from visionkit.inference.cache import cache_dir
    from visionkit.inference.cache import prune as prune_cache

    folder = cache_dir()
    gone = prune_cache(folder, unused_days=unused_days, everything=everything, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for entry in gone:
        click.echo(f"{verb} {entry.path.name} ({entry.kind}, {entry.size / _MIB:.1f} MiB)")
    freed = sum(entry.size for entry in gone) / _MIB
    click.echo(f"{folder}: {verb} {len(gone)} file(s), {freed:.1f} MiB")
