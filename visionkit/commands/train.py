"""``visionkit train``: train a segmentation model on Hades-convention data.

Settings come in layers, later ones winning: the defaults of
:class:`~visionkit.training.config.TrainConfig`, then (with ``--resume``) the
checkpoint's own config, then ``--config FILE.yaml``, then the options given
on the command line. So ``visionkit train --out runs/a --resume --epochs 30``
continues run ``a`` with everything else as it was.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["train"]

#: Command-line option -> TrainConfig key.
_OPTION_KEYS: dict[str, str] = {
    "val_dir": "val_dir",
    "out_dir": "out_dir",
    "architecture": "architecture",
    "encoder": "encoder",
    "patch_size": "patch_size",
    "batch_size": "batch_size",
    "epochs": "epochs",
    "lr": "lr",
    "schedule": "schedule",
    "loss": "loss",
    "device": "device",
    "seed": "seed",
    "scale": "scale",
    "data_scale": "data_scale",
    "patches_per_epoch": "patches_per_epoch",
    "workers": "num_workers",
    "time_limit": "time_limit",
    "cache": "cache",
    "init_from": "init_from",
    "deterministic": "deterministic",
    "register": "register",
    "experiment": "experiment",
    "name": "name",
    "version": "version",
}


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source in (
        click.core.ParameterSource.COMMANDLINE,
        click.core.ParameterSource.ENVIRONMENT,
    )


def _settings(
    ctx: click.Context, data: Path | None, config_file: Path | None, resume: bool
) -> dict[str, Any]:
    from visionkit.training.checkpoint import TRAIN_CONFIG_FILE, find_checkpoint
    from visionkit.training.config import TrainConfig

    given = {key: ctx.params[option] for option, key in _OPTION_KEYS.items() if _given(ctx, option)}
    file_values: dict[str, Any] = {}
    if config_file is not None:
        file_values = TrainConfig.read_dict(config_file)
        TrainConfig.check_keys(file_values, source=str(config_file))
    values: dict[str, Any] = {}
    out_dir = given.get("out_dir", file_values.get("out_dir"))
    if resume and out_dir is not None:
        folder = find_checkpoint(out_dir)
        if folder is not None:
            values.update(TrainConfig.read_dict(folder / TRAIN_CONFIG_FILE))
    values.update(file_values)
    values.update(given)
    if data is not None:
        values["data_dir"] = str(data)
    if _given(ctx, "no_track"):
        values["track"] = not ctx.params["no_track"]
    for key in ("val_dir", "out_dir", "init_from"):
        if isinstance(values.get(key), Path):
            values[key] = str(values[key])
    if "data_dir" not in values:
        raise click.UsageError("give the DATA folder (or data_dir in --config)")
    if "out_dir" not in values:
        raise click.UsageError("give --out DIR (or out_dir in --config)")
    return values


_DIR = click.Path(file_okay=False, path_type=Path)


@click.command()
@click.argument("data", required=False, type=_DIR)
@click.option("--val", "val_dir", type=_DIR, help="Validation folder [default: hold out 20 %].")
@click.option("--out", "out_dir", type=_DIR, help="Run folder: checkpoints, models, logs.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON TrainConfig; options given here override it.",
)
@click.option(
    "--architecture",
    default="unet-small",
    show_default=True,
    help="A registered architecture (see `visionkit architectures`).",
)
@click.option("--encoder", default=None, help="Encoder name [default: the architecture's].")
@click.option("--patch-size", default=256, show_default=True, type=click.IntRange(min=32))
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--patches-per-epoch", default=512, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=1e-3, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option(
    "--schedule",
    default="cosine",
    show_default=True,
    type=click.Choice(["cosine", "onecycle", "constant"]),
)
@click.option(
    "--loss", default="dice+ce", show_default=True, type=click.Choice(["dice+ce", "ce", "dice"])
)
@click.option(
    "--device", default="auto", show_default=True, help="auto (CUDA when available), cpu or cuda."
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--scale",
    default=0.5,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Working scale relative to a ~20 px/mm Hades frame.",
)
@click.option(
    "--data-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Resolution of DATA relative to a Hades frame (e.g. 0.25 for synth --scale 0.25).",
)
@click.option(
    "--workers",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="DataLoader worker processes.",
)
@click.option(
    "--time-limit",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    metavar="MINUTES",
    help="Fit the run into this many minutes: fewer epochs, the schedule shortened to match.",
)
@click.option(
    "--init-from",
    default=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="MODEL",
    help="Start from this model folder's weights (fine-tuning); same architecture and classes.",
)
@click.option(
    "--deterministic/--no-deterministic",
    default=True,
    show_default=True,
    help="Deterministic kernels (a seed repeats the run); --no-deterministic is faster on a GPU.",
)
@click.option(
    "--cache/--no-cache",
    default=False,
    show_default=True,
    help="Keep every plate in memory (read once, in parallel with --workers).",
)
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option(
    "--exist-ok",
    is_flag=True,
    help="Train a new run into an --out folder that holds an earlier one (replacing it).",
)
@click.option(
    "--register",
    default=None,
    metavar="NAME",
    help="Register the best model in the MLflow model registry as NAME.",
)
@click.option("--experiment", default="visionkit", show_default=True, help="MLflow experiment.")
@click.option("--no-track", is_flag=True, help="Do not log to MLflow.")
@click.option("--name", default=None, help="The model's name [default: the --out folder's name].")
@click.option("--version", default="0", show_default=True, help="The model's version.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.pass_context
def train(
    ctx: click.Context,
    data: Path | None,
    config_file: Path | None,
    resume: bool,
    exist_ok: bool,
    no_progress: bool,
    **_: Any,
) -> None:
    """Train a segmentation model on the Hades-convention plates in DATA.

    Writes OUT/best/ and OUT/last/ model folders, a checkpoint every epoch
    (Ctrl-C saves one too; continue with --resume), OUT/train.log and
    OUT/curves.png, and logs the run to MLflow (MLFLOW_TRACKING_URI, else
    sqlite:///mlruns.db with ./mlartifacts) as NAME-<UTC start time>.
    An OUT that holds an earlier run is refused unless --resume or
    --exist-ok; a start that fails leaves nothing behind.
    """
    from visionkit.cli import plugin_manager
    from visionkit.training import TrainConfig
    from visionkit.training import train as run_training

    values = _settings(ctx, data, config_file, resume)
    config = TrainConfig.from_dict(values, source="visionkit train")
    command = shlex.join(["visionkit", *sys.argv[1:]])
    result = run_training(
        config,
        resume=resume,
        exist_ok=exist_ok,
        progress=not no_progress,
        command=command,
        pm=plugin_manager(ctx),
    )
    if result.already_finished:
        click.echo(
            f"the run in {result.out_dir} is finished ({result.epochs_done} of "
            f"{config.epochs} epochs); nothing to resume. Train longer with "
            f"--resume --epochs N (N > {result.epochs_done}), or start a new run with "
            f"another --out"
        )
        return
    if result.interrupted:
        click.echo(
            f"interrupted; checkpoint saved in {result.checkpoint_dir}. Resume with:\n"
            f"  visionkit train --out {shlex.quote(str(result.out_dir))} --resume",
            err=True,
        )
        ctx.exit(130)
    metric = config.early_stopping_metric
    best = f"{result.best_metric:.4f}" if result.best_metric is not None else "n/a"
    click.echo(f"best model: {result.best_dir} ({metric} {best} at epoch {result.best_epoch})")
    done = result.epochs_done
    click.echo(f"last model: {result.last_dir} (after {done} epoch{'' if done == 1 else 's'})")
    if result.run_id:
        click.echo(f"MLflow run: {result.run_id}")
    if result.registered_version:
        click.echo(f"registered {config.register} version {result.registered_version}")
