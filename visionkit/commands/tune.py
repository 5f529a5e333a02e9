"""``visionkit tune DATA --trials N --timeout S --out DIR``: search hyperparameters.

Runs :func:`visionkit.training.tuning.tune`: short training runs with Optuna choosing
the architecture, encoder, learning rate, patch size and loss weights, a
median pruner stopping poor trials early, one nested MLflow run per trial,
and ``DIR/best.yaml`` for ``visionkit train --config DIR/best.yaml``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

__all__ = ["tune"]

_DIR = click.Path(file_okay=False, path_type=Path)


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(name.strip() for name in value.split(",") if name.strip())


@click.command()
@click.argument("data", type=_DIR)
@click.option("--trials", type=click.IntRange(min=1), default=None, help="Trials to run.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds after which no new trial starts.",
)
@click.option("--out", "out_dir", type=_DIR, required=True, help="Folder for trials and best.yaml.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Base TrainConfig (YAML/JSON); DATA overrides its data_dir.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=3, show_default=True, help="Epochs per trial."
)
@click.option(
    "--patches-per-epoch",
    type=click.IntRange(min=1),
    default=None,
    help="Training patches per trial epoch [default: the base config's].",
)
@click.option(
    "--architectures", default=None, help="Comma-separated architectures [default: all registered]."
)
@click.option("--encoders", default=None, help="Comma-separated encoders [default: small ones].")
@click.option(
    "--study", "study_name", default="visionkit-tune", show_default=True, help="Optuna study name."
)
@click.option("--storage", default=None, help="Optuna storage URL [default: sqlite in OUT].")
@click.option("--no-track", is_flag=True, help="Do not log to MLflow.")
@click.pass_context
def tune(
    ctx: click.Context,
    data: Path,
    trials: int | None,
    timeout: float | None,
    out_dir: Path,
    config_file: Path | None,
    epochs: int,
    patches_per_epoch: int | None,
    architectures: str | None,
    encoders: str | None,
    study_name: str,
    storage: str | None,
    no_track: bool,
) -> None:
    """Search training hyperparameters on the Hades-convention plates in DATA.

    Give --trials, --timeout or both. Each trial trains for --epochs epochs;
    the best configuration goes to OUT/best.yaml with the base config's full
    length, ready for `visionkit train --config OUT/best.yaml`.
    """
    from visionkit.cli import plugin_manager
    from visionkit.training import TrainConfig
    from visionkit.training.tuning import SearchSpace
    from visionkit.training.tuning import tune as run_tune

    if trials is None and timeout is None:
        raise click.UsageError("give --trials N, --timeout SECONDS or both")
    values: dict[str, Any] = {}
    if config_file is not None:
        values = TrainConfig.read_dict(config_file)
        TrainConfig.check_keys(values, source=str(config_file))
    values["data_dir"] = str(data)
    values.setdefault("out_dir", str(out_dir / "best"))
    if no_track:
        values["track"] = False
    base = TrainConfig.from_dict(values, source=str(config_file or "visionkit tune"))
    space = SearchSpace()
    chosen_architectures, chosen_encoders = _names(architectures), _names(encoders)
    if chosen_architectures is not None:
        space = replace(space, architectures=chosen_architectures)
    if chosen_encoders is not None:
        space = replace(space, encoders=chosen_encoders)
    result = run_tune(
        base,
        n_trials=trials,
        timeout=timeout,
        search_space=space,
        study_name=study_name,
        storage=storage,
        out=out_dir,
        epochs=epochs,
        patches_per_epoch=patches_per_epoch,
        pm=plugin_manager(ctx),
    )
    click.echo(
        f"{result.n_complete} trials finished, {result.n_pruned} pruned, {result.n_failed} failed "
        f"(study {result.study_name!r} in {result.storage})"
    )
    if result.best_config_path is None:
        click.echo("no trial finished; nothing to recommend", err=True)
        raise SystemExit(1)
    click.echo(
        f"best: trial {result.best_trial}, {result.metric} {result.best_value:.4f} with "
        + ", ".join(f"{k}={v}" for k, v in sorted(result.best_params.items()))
    )
    click.echo(f"best config: {result.best_config_path}")
    click.echo(f"train it with: visionkit train --config {result.best_config_path}")
    if result.parent_run_id:
        click.echo(f"MLflow parent run: {result.parent_run_id}")
