"""``visionkit export``: write a model's ONNX export into its folder, ready to run.

An export that travels with the model folder spares every machine that runs
the model the export (torch) and, for ``onnx-int8``, the calibration of its
8-bit ranges on synthetic plates (about 25 s for the default model on a
2-core machine). The file is stamped with the weights' sha256, so it is
ignored if the weights are ever replaced. ``--prefer`` also records the
runtime in ``config.json`` as the one a prediction uses when it names none;
score the model with ``visionkit evaluate --backend ...`` first.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from visionkit.commands._options import default_model_option
from visionkit.inference.runtime import EXPORT_FILES

__all__ = ["export"]


@click.command()
@default_model_option
@click.option(
    "--backend",
    type=click.Choice(tuple(EXPORT_FILES)),
    default="onnx-int8",
    show_default=True,
    help="The runtime whose export to write.",
)
@click.option(
    "--prefer",
    is_flag=True,
    help="Also make it the model's runtime when a prediction names none (config.json).",
)
def export(model: Path | None, backend: str, prefer: bool) -> None:
    """Write the model's --backend export into its folder (and with --prefer, prefer it)."""
    from visionkit.inference.runtime import write_export
    from visionkit.modelfolder import write_config
    from visionkit.pipeline import resolve_model

    loaded = resolve_model(model)
    try:
        target = write_export(loaded, backend)
        if prefer and loaded.config.backend != backend:
            write_config(loaded.path, replace(loaded.config, backend=backend))
    except OSError as exc:
        raise click.ClickException(
            f"cannot write into {loaded.path} ({exc.strerror or exc}); "
            f"copy the model folder somewhere writable and pass --model"
        ) from exc
    size = target.stat().st_size / 2**20
    click.echo(f"wrote {target} ({size:.1f} MiB, stamped with weights {loaded.sha256[:12]})")
    if prefer:
        click.echo(f"{loaded.path / 'config.json'}: predictions that name no backend run {backend}")
