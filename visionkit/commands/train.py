"""``visionkit train``: train a segmentation model on Hades-convention data.

Settings come in layers, later ones winning: the defaults of
:class:`~visionkit.training.config.TrainConfig`, then (with ``--resume``) the
checkpoint's own config, then ``--config FILE.yaml``, then the options given
on the command line. So ``visionkit train --out runs/a --resume --epochs 30``
continues run ``a`` with everything else as it was.

``--backend azureml`` trains on Azure Machine Learning instead
(:mod:`visionkit.azureml`): DATA is then a data asset, datastore path or
Blob URL (default ``VISIONKIT_AZUREML_DATA``), the options given become the
job's ``visionkit train`` command, and ``--dry-run`` writes the job specs
(command job, sweep job, environments) into ``--out`` with the cost estimate,
submitting nothing. Every run, local or not, ends with its compute, duration
and estimated cost (``OUT/cost.json`` for local runs).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
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
    ctx: click.Context, data: str | None, config_file: Path | None, resume: bool
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
#: Options that make no sense in an Azure ML job's command (local paths, local resuming).
_LOCAL_ONLY = ("val_dir", "init_from", "config_file")


def _trial_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--trial-param takes NAME=VALUE, not {pair!r}")
        params[key.strip()] = value.strip()
    return params


def _estimate_line(compute: str, nodes: int, values: dict[str, Any], overhead_min: float) -> str:
    from visionkit.costs import estimate_run
    from visionkit.exceptions import SettingsError
    from visionkit.training.config import TrainConfig

    defaults = TrainConfig(data_dir=".", out_dir=".")
    try:
        planned = estimate_run(
            compute, nodes=nodes, time_limit_min=values.get("time_limit"),
            epochs=int(values.get("epochs", defaults.epochs)),
            patches_per_epoch=int(values.get("patches_per_epoch", defaults.patches_per_epoch)),
            overhead_min=overhead_min,
        )  # fmt: skip
    except SettingsError as exc:
        return f"estimated cost: unknown ({exc})"
    basis = "--time-limit" if values.get("time_limit") else "epochs x patches at its throughput"
    return f"estimated cost: {planned.describe()} (from {basis}; list prices, check them)"


def _azureml(ctx: click.Context, data: str | None, out: Path, dry_run: bool) -> None:
    """Write (and unless ``dry_run`` submit) the Azure ML training specs."""
    from visionkit.azureml.config import AzureMLConfig, ml_client
    from visionkit.azureml.files import write_specs
    from visionkit.azureml.plan import SWEEP_JOB_FILE, TRAIN_JOB_FILE, option_flags, training_files
    from visionkit.azureml.submit import AzureMLBackend, find_model_folder
    from visionkit.cli import plugin_manager
    from visionkit.commands.azureml import run_echoing
    from visionkit.training.tuning import SearchSpace

    p = ctx.params
    for name in _LOCAL_ONLY:
        if p.get(name) is not None:
            raise click.UsageError(f"--{name.replace('_file', '').replace('_dir', '')} is for "
                                   "local runs; an Azure ML job takes options only")  # fmt: skip
    given = {key: p[option] for option, key in _OPTION_KEYS.items()
             if _given(ctx, option) and key not in ("out_dir", "val_dir", "init_from")}  # fmt: skip
    config = AzureMLConfig.from_env().with_options(
        compute=p["compute"], vm_size=p["vm_size"], nodes=p["nodes"]
    )
    space = SearchSpace().resolved(plugin_manager(ctx))
    timeout = int(p["time_limit"] * 60 * 1.5 + 900) if p["time_limit"] else None
    files = training_files(
        out, options=option_flags(given), config=config, space=space, data=data,
        environment=p["environment"], code=p["code"], trials=p["trials"],
        concurrent=p["concurrent_trials"], timeout_s=timeout,
    )  # fmt: skip
    written = write_specs(out, files)
    click.echo(f"wrote {', '.join(str(path) for path in written)}")
    click.echo(_estimate_line(config.vm_size, config.nodes, given, overhead_min=5.0))
    if dry_run:
        click.echo(f"dry run: nothing submitted. Submit with: az ml job create --file "
                   f"{out / TRAIN_JOB_FILE} (or {SWEEP_JOB_FILE} to sweep)")  # fmt: skip
        return
    backend = AzureMLBackend(ml_client(config))
    finished = run_echoing(backend, out / TRAIN_JOB_FILE, config)
    model = find_model_folder(backend.download(finished.name, out / "outputs"))
    from visionkit.costs import estimate

    cost = estimate(config.vm_size, finished.seconds / 3600.0, config.nodes)
    click.echo(f"model: {model}\ncost: {cost.describe()}")


@click.command()
@click.argument("data", required=False, type=click.Path(file_okay=False))
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
@click.option(
    "--backend",
    type=click.Choice(["local", "azureml"]),
    default="local",
    show_default=True,
    help="Train here, or as an Azure ML job (docs/azure.md).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the cost estimate; with --backend azureml also write the job specs to --out. "
    "Nothing trains.",
)
@click.option(
    "--compute", default=None, help="Azure ML cluster [default: VISIONKIT_AZUREML_COMPUTE]."
)
@click.option("--vm-size", default=None, help="Its VM size [default: VISIONKIT_AZUREML_VM_SIZE].")
@click.option("--nodes", type=click.IntRange(min=1), default=None, help="Azure ML nodes.")
@click.option(
    "--environment",
    default="docker",
    show_default=True,
    help="Azure ML environment: docker (the Dockerfile), conda, or azureml:NAME:VERSION.",
)
@click.option("--trials", type=click.IntRange(min=1), default=20, show_default=True,
              help="Sweep trials (sweep-job.yml).")  # fmt: skip
@click.option("--concurrent-trials", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--code",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Project folder an Azure ML job snapshots [default: this checkout].",
)
@click.option("--trial-param", "trial_param", multiple=True, hidden=True,
              help="NAME=VALUE of a sweep trial, applied as visionkit tune does.")  # fmt: skip
@click.pass_context
def train(
    ctx: click.Context,
    data: str | None,
    config_file: Path | None,
    resume: bool,
    exist_ok: bool,
    no_progress: bool,
    backend: str,
    dry_run: bool,
    trial_param: tuple[str, ...],
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
    from visionkit.training.device import resolve_device
    from visionkit.training.provenance import compute, run_cost
    from visionkit.training.tuning import apply_params

    if backend == "azureml":
        if ctx.params["out_dir"] is None:
            raise click.UsageError("give --out DIR: the job specs (and outputs) go there")
        _azureml(ctx, data, ctx.params["out_dir"], dry_run)
        return
    values = _settings(ctx, data, config_file, resume)
    config = TrainConfig.from_dict(values, source="visionkit train")
    if trial_param:
        config = apply_params(config, _trial_params(trial_param))
    device = str(resolve_device(config.device))
    if dry_run:
        name, nodes = compute(device)
        click.echo(_estimate_line(name, nodes, config.to_dict(), overhead_min=0.0))
        return
    command = shlex.join(["visionkit", *sys.argv[1:]])
    started = time.perf_counter()
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
    cost = run_cost(device, time.perf_counter() - started)
    if result.out_dir.is_dir():
        (result.out_dir / "cost.json").write_text(json.dumps(cost, indent=2) + "\n")
    metric = config.early_stopping_metric
    best = f"{result.best_metric:.4f}" if result.best_metric is not None else "n/a"
    click.echo(f"best model: {result.best_dir} ({metric} {best} at epoch {result.best_epoch})")
    done = result.epochs_done
    click.echo(f"last model: {result.last_dir} (after {done} epoch{'' if done == 1 else 's'})")
    if result.run_id:
        click.echo(f"MLflow run: {result.run_id}")
    if result.registered_version:
        click.echo(f"registered {config.register} version {result.registered_version}")
    usd = cost["estimated_usd"]
    click.echo(f"compute: {cost['compute']} x{cost['nodes']} for {cost['duration_s']:.0f} s, "
               f"estimated ${usd:.4f}" if usd is not None else "cost unknown")  # fmt: skip
