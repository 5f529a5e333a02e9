"""``visionkit version|plugins|sources|adapters|architectures``: what is installed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from visionkit.cli import plugin_manager

__all__ = ["adapters", "architectures", "plugins", "sources", "version"]

_as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@click.command()
def version() -> None:
    """Print the visionkit version."""
    from visionkit import __version__

    click.echo(__version__)


@click.command()
@_as_json
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins with their versions and the hooks they implement."""
    from visionkit.plugins import list_plugins

    rows = list_plugins(plugin_manager(ctx))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = " [built-in]" if row["builtin"] else ""
        click.echo(f"{row['name']} {row['version'] or '-'}{mark}")
        click.echo(f"    hooks: {', '.join(row['hooks']) or '(none)'}")


def _print_specs(ctx: click.Context, kind: str, as_json: bool) -> None:
    from visionkit import plugins as registry

    getters: dict[str, Callable[[Any], dict[str, Any]]] = {
        "sources": registry.source_specs,
        "adapters": registry.adapter_specs,
        "architectures": registry.architecture_specs,
    }
    table = getters[kind](plugin_manager(ctx))
    if as_json:
        click.echo(
            json.dumps(
                {n: {"description": s.description} for n, s in sorted(table.items())}, indent=2
            )
        )
        return
    width = max((len(n) for n in table), default=0)
    for name, spec in sorted(table.items()):
        click.echo(f"{name:<{width}}  {spec.description}")


@click.command()
@_as_json
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List camera sources."""
    _print_specs(ctx, "sources", as_json)


@click.command()
@_as_json
@click.pass_context
def adapters(ctx: click.Context, as_json: bool) -> None:
    """List output adapters."""
    _print_specs(ctx, "adapters", as_json)


@click.command()
@_as_json
@click.pass_context
def architectures(ctx: click.Context, as_json: bool) -> None:
    """List model architectures."""
    _print_specs(ctx, "architectures", as_json)
