"""Search training hyperparameters with Optuna: :func:`tune`.

Each trial is a short training run (:func:`visionkit.training.train`) of the
base :class:`~visionkit.training.config.TrainConfig` with a few settings drawn
from a :class:`SearchSpace`:

- ``architecture``: one of the registered architectures (``visionkit architectures``);
- ``encoder``: one of a short list of small encoders;
- ``lr``: log-uniform;
- ``patch_size``: 128, 192 or 256;
- ``dice_weight``: the soft-Dice term's weight against cross-entropy (weight 1);
- ``root_weight``: the cross-entropy weight of ``root`` (and ``occluded_root``), log-uniform.

The objective is the base config's ``early_stopping_metric`` (default
``val_root_iou``), maximised, or minimised for a loss; a trial's value is
its best epoch's. Its per-epoch value goes to Optuna's
:class:`~optuna.pruners.MedianPruner`, which stops trials doing worse than
the median of earlier trials at the same epoch. The value reaches Optuna
through the run's tracker: every epoch, training logs its validation metrics
(``Tracker.log_metrics(..., step=epoch)``) and the trial's tracker reports
the objective from them and raises :class:`optuna.TrialPruned` when told to
prune, which stops training cleanly (the run is closed as ``KILLED``).

MLflow: one parent run for the study (experiment ``base_config.experiment``)
holding the search space, the best value and parameters and ``best.yaml``;
one nested run per trial (tag ``mlflow.parentRunId``) with everything
training logs.

``out`` receives ``trials/trial_NNNN/`` (each trial's run folder),
``best.yaml`` (the base config with the best parameters, its full
``epochs``/``patches_per_epoch`` and ``out_dir`` = ``out/best``: ready for
``visionkit train --config best.yaml``), ``trials.csv``, and by default the
Optuna study in ``out/optuna.db`` (SQLite), so running :func:`tune` again
with the same ``study_name`` continues the study.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visionkit.exceptions import ModelError, VisionkitError
from visionkit.tracking import MlflowTracker, Tracker

if TYPE_CHECKING:
    import optuna
    import pluggy

    from visionkit.training.config import TrainConfig

__all__ = [
    "BEST_CONFIG_FILE",
    "DEFAULT_ENCODERS",
    "TRIALS_FILE",
    "SearchSpace",
    "TuneResult",
    "apply_params",
    "tune",
]

logger = logging.getLogger(__name__)

BEST_CONFIG_FILE = "best.yaml"
TRIALS_FILE = "trials.csv"
#: Small encoders that train in minutes on a CPU.
DEFAULT_ENCODERS: tuple[str, ...] = ("mobilenet_v2", "resnet18", "efficientnet-b0")

_PARENT_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class SearchSpace:
    """What :func:`tune` may vary.

    Attributes:
        architectures: architecture names; empty means every registered one.
        encoders: encoder names (smp); empty keeps the base config's encoder.
        lr: ``(low, high)`` of the log-uniform learning rate.
        patch_sizes: patch sides to choose from (multiples of 32).
        dice_weight: ``(low, high)`` of the Dice term's weight (cross-entropy weighs 1).
        root_weight: ``(low, high)`` of the log-uniform root class weight.
    """

    architectures: tuple[str, ...] = ()
    encoders: tuple[str, ...] = DEFAULT_ENCODERS
    lr: tuple[float, float] = (1e-4, 3e-3)
    patch_sizes: tuple[int, ...] = (128, 192, 256)
    dice_weight: tuple[float, float] = (0.25, 2.0)
    root_weight: tuple[float, float] = (1.0, 8.0)

    def resolved(self, pm: pluggy.PluginManager | None = None) -> SearchSpace:
        """This space with ``architectures`` filled in and every name checked.

        ``pm`` supplies the architectures (default:
        :func:`~visionkit.plugins.default_plugin_manager`).

        Raises:
            ModelError: an unknown architecture or encoder, or a bad range.
        """
        from visionkit.plugins import architecture_specs

        registered = sorted(architecture_specs(pm))
        architectures = self.architectures or tuple(registered)
        problems = [
            f"unknown architecture {name!r}; registered: {', '.join(registered)}"
            for name in architectures
            if name not in registered
        ]
        if self.encoders:
            import segmentation_models_pytorch as smp

            valid = set(smp.encoders.get_encoder_names())
            problems += [
                f"unknown encoder {name!r} (see segmentation_models_pytorch's encoder list)"
                for name in self.encoders
                if name not in valid
            ]
        for key in ("lr", "dice_weight", "root_weight"):
            low, high = getattr(self, key)
            if not 0 < low <= high:
                problems.append(
                    f"{key} must be (low, high) with 0 < low <= high, got {(low, high)}"
                )
        bad = [p for p in self.patch_sizes if p < 32 or p % 32]
        if not self.patch_sizes or bad:
            problems.append(f"patch_sizes must be multiples of 32, got {list(self.patch_sizes)}")
        if problems:
            raise ModelError("invalid search space:\n" + "\n".join(f"  - {p}" for p in problems))
        return SearchSpace(
            architectures=tuple(architectures),
            encoders=tuple(self.encoders),
            lr=self.lr,
            patch_sizes=tuple(self.patch_sizes),
            dice_weight=self.dice_weight,
            root_weight=self.root_weight,
        )

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Draw one trial's parameters (names as in :class:`SearchSpace`)."""
        params: dict[str, Any] = {
            "architecture": trial.suggest_categorical("architecture", list(self.architectures)),
            "lr": trial.suggest_float("lr", *self.lr, log=True),
            "patch_size": trial.suggest_categorical("patch_size", list(self.patch_sizes)),
            "dice_weight": trial.suggest_float("dice_weight", *self.dice_weight),
            "root_weight": trial.suggest_float("root_weight", *self.root_weight, log=True),
        }
        if self.encoders:
            params["encoder"] = trial.suggest_categorical("encoder", list(self.encoders))
        return params

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the parent run's parameters)."""
        return {k: list(v) for k, v in asdict(self).items()}


def apply_params(base: TrainConfig, params: Mapping[str, Any]) -> TrainConfig:
    """``base`` with a trial's parameters applied.

    ``arch_params`` of the base config are kept only for its own architecture
    (another architecture may not accept them, e.g. U-Net decoder channels on FPN).
    """
    architecture = str(params.get("architecture", base.architecture))
    changes: dict[str, Any] = {
        "architecture": architecture,
        "arch_params": dict(base.arch_params) if architecture == base.architecture else {},
    }
    if "encoder" in params:
        changes["encoder"] = params["encoder"]
    if "lr" in params:
        changes["lr"] = float(params["lr"])
    if "patch_size" in params:
        changes["patch_size"] = int(params["patch_size"])
    if "dice_weight" in params:
        changes["loss_weights"] = {
            "ce": float(base.loss_weights.get("ce", 1.0)),
            "dice": float(params["dice_weight"]),
        }
    if "root_weight" in params:
        weights = dict(base.class_weights)
        for cls in ("root", "occluded_root"):
            if cls in base.classes:
                weights[cls] = float(params["root_weight"])
        changes["class_weights"] = weights
    return base.replace(**changes)


class _TrialTracker(Tracker):
    """Forwards to a real tracker, nests the run and reports each epoch to Optuna."""

    def __init__(
        self, inner: Tracker, trial: optuna.Trial, metric: str, parent_run_id: str | None
    ) -> None:
        self.inner = inner
        self.trial = trial
        self.metric = metric
        self.parent_run_id = parent_run_id
        self.pruned = False
        self.run_id: str | None = None

    @property
    def active(self) -> bool:
        return self.inner.active

    def start(
        self, *, run_name: str, run_id: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str | None:
        merged = {**(tags or {}), "optuna_trial": str(self.trial.number)}
        if self.parent_run_id:
            merged[_PARENT_TAG] = self.parent_run_id
        self.run_id = self.inner.start(
            run_name=f"trial-{self.trial.number:04d}", run_id=run_id, tags=merged
        )
        return self.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.inner.log_params(params)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        import optuna

        self.inner.log_metrics(metrics, step)
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            return
        self.trial.report(float(value), step)
        if self.trial.should_prune():
            self.pruned = True
            logger.info(
                "trial %d pruned at epoch %d (%s %.4f)", self.trial.number, step, self.metric, value
            )
            raise optuna.TrialPruned(f"pruned at epoch {step}")

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.inner.set_tags(tags)

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        self.inner.log_artifact(path, artifact_path)

    def log_artifacts(
        self, folder: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self.inner.log_artifacts(folder, artifact_path)

    def register_model(self, name: str, artifact_path: str) -> str | None:
        return None  # trials never register models

    def end(self, status: str = "FINISHED") -> None:
        self.inner.end("KILLED" if self.pruned else status)


@dataclass
class TuneResult:
    """What a study found.

    Attributes:
        study_name: the Optuna study.
        best_value: the best trial's objective value (``None`` when no trial finished).
        best_params: its parameters.
        best_trial: its number.
        best_config: the base config with those parameters (full length).
        best_config_path: ``out/best.yaml``.
        metric: the objective (a validation metric).
        direction: ``maximize`` or ``minimize``.
        n_complete, n_pruned, n_failed: trials by outcome (over the whole study).
        parent_run_id: the MLflow parent run, or ``None`` without tracking.
        trials_path: ``out/trials.csv``.
        storage: the Optuna storage URL.
    """

    study_name: str
    best_value: float | None
    best_params: dict[str, Any]
    best_trial: int | None
    best_config: TrainConfig | None
    best_config_path: Path | None
    metric: str
    direction: str
    n_complete: int
    n_pruned: int
    n_failed: int
    parent_run_id: str | None
    trials_path: Path
    storage: str
    trials: list[dict[str, Any]] = field(default_factory=list)


def _write_trials(study: optuna.Study, path: Path) -> list[dict[str, Any]]:
    rows = []
    for trial in study.trials:
        row: dict[str, Any] = {
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value,
            "epochs": len(trial.intermediate_values),
        }
        row.update(trial.params)
        rows.append(row)
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys or ["number"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def tune(
    base_config: TrainConfig,
    *,
    n_trials: int | None,
    timeout: float | None,
    search_space: SearchSpace | None = None,
    study_name: str = "visionkit-tune",
    storage: str | None = None,
    out: str | os.PathLike[str],
    epochs: int | None = None,
    patches_per_epoch: int | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    tracking_uri: str | None = None,
    progress: bool = False,
    pm: pluggy.PluginManager | None = None,
) -> TuneResult:
    """Search hyperparameters around ``base_config`` (see the module docstring).

    Args:
        base_config: the settings every trial starts from (data, classes, scale...).
        n_trials: trials to run in this call (``None``: until ``timeout``).
        timeout: seconds after which no new trial starts (``None``: no limit).
        search_space: what to vary; default :class:`SearchSpace()`.
        study_name: the Optuna study (and MLflow parent run) name.
        storage: an Optuna storage URL; ``None`` uses ``sqlite:///<out>/optuna.db``,
            so the study can be continued.
        out: folder for trial runs, ``best.yaml``, ``trials.csv``.
        epochs: epochs per trial (default: the base config's).
        patches_per_epoch: training patches per trial epoch (default: the base config's).
        pruner: an Optuna pruner; default ``MedianPruner(n_startup_trials=2,
            n_warmup_steps=1)``.
        tracking_uri: MLflow tracking URI (default ``MLFLOW_TRACKING_URI``,
            else the local store); ignored when ``base_config.track`` is false.
        progress: show each trial's training progress bar.
        pm: the plugin manager whose architectures the trials may pick and
            build (default: :func:`~visionkit.plugins.default_plugin_manager`).

    Raises:
        ModelError: a bad search space, or neither ``n_trials`` nor ``timeout``.
    """
    import optuna

    if n_trials is None and timeout is None:
        raise ModelError("give n_trials or timeout (or both), else the search never ends")
    if n_trials is not None and n_trials < 1:
        raise ModelError(f"n_trials must be >= 1, got {n_trials}")
    space = (search_space or SearchSpace()).resolved(pm)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    storage_url = storage or f"sqlite:///{(folder / 'optuna.db').resolve()}"
    metric = base_config.early_stopping_metric
    direction = "maximize" if base_config.higher_is_better else "minimize"
    trial_base = base_config.replace(
        epochs=epochs or base_config.epochs,
        patches_per_epoch=patches_per_epoch or base_config.patches_per_epoch,
        register=None,
    )
    study = optuna.create_study(
        study_name=study_name,
        storage=storage_url,
        direction=(
            optuna.study.StudyDirection.MAXIMIZE
            if direction == "maximize"
            else optuna.study.StudyDirection.MINIMIZE
        ),
        sampler=optuna.samplers.TPESampler(seed=base_config.seed),
        pruner=pruner or optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
        load_if_exists=True,
    )

    def new_tracker() -> Tracker:
        if not base_config.track:
            return Tracker()
        return MlflowTracker(base_config.experiment, tracking_uri=tracking_uri)

    parent = new_tracker()
    parent_id = parent.start(
        run_name=study_name, tags={"optuna_study": study_name, "optuna_storage": storage_url}
    )
    parent.log_params(
        {f"space.{k}": ",".join(map(str, v)) for k, v in space.to_dict().items()}
        | {"metric": metric, "direction": direction, "trial_epochs": trial_base.epochs}
    )

    def objective(trial: optuna.Trial) -> float:
        from visionkit.training import train

        params = space.suggest(trial)
        config = apply_params(trial_base, params).replace(
            out_dir=str(folder / "trials" / f"trial_{trial.number:04d}"),
            name=f"{base_config.name}-trial{trial.number}",
        )
        tracker = _TrialTracker(new_tracker(), trial, metric, parent_id)
        logger.info("trial %d: %s", trial.number, params)
        result = train(
            config,
            tracker=tracker,
            progress=progress,
            command=f"visionkit tune (trial {trial.number})",
            pm=pm,
        )
        if result.best_metric is None:
            raise ModelError(f"trial {trial.number} finished no epoch; nothing to score")
        trial.set_user_attr("out_dir", str(result.out_dir))
        if tracker.run_id:
            trial.set_user_attr("mlflow_run_id", tracker.run_id)
        return float(result.best_metric)

    try:
        study.optimize(
            objective,
            n_trials=n_trials,
            timeout=timeout,
            catch=(VisionkitError, RuntimeError, ValueError),
            gc_after_trial=True,
        )
    except BaseException:
        parent.end("FAILED")
        raise
    result = _finish(study, base_config, folder, metric, direction, storage_url, parent)
    result.parent_run_id = parent_id
    return result


def _finish(
    study: optuna.Study,
    base_config: TrainConfig,
    folder: Path,
    metric: str,
    direction: str,
    storage_url: str,
    parent: Tracker,
) -> TuneResult:
    """Write ``best.yaml`` and ``trials.csv``, log them, close the parent run."""
    import optuna

    states = [t.state for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    trials_path = folder / TRIALS_FILE
    rows = _write_trials(study, trials_path)
    parent.log_artifact(trials_path)
    best_config = best_path = None
    best_value: float | None = None
    best_params: dict[str, Any] = {}
    best_number: int | None = None
    if complete:
        best = study.best_trial
        best_value, best_params, best_number = best.value, dict(best.params), best.number
        best_config = apply_params(base_config, best_params).replace(out_dir=str(folder / "best"))
        best_path = best_config.to_file(folder / BEST_CONFIG_FILE)
        parent.log_params({f"best.{k}": v for k, v in best_params.items()})
        parent.log_metrics({f"best_{metric}": float(best.value or 0.0)}, step=best.number)
        parent.log_artifact(best_path)
        logger.info("best trial %d: %s %.4f with %s", best.number, metric, best.value, best_params)
    else:
        logger.warning("no trial finished; no %s written", BEST_CONFIG_FILE)
    counts = {
        "n_complete": states.count(optuna.trial.TrialState.COMPLETE),
        "n_pruned": states.count(optuna.trial.TrialState.PRUNED),
        "n_failed": states.count(optuna.trial.TrialState.FAIL),
    }
    parent.log_metrics({k: float(v) for k, v in counts.items()}, step=0)
    parent.end("FINISHED")
    return TuneResult(
        study_name=study.study_name,
        best_value=best_value,
        best_params=best_params,
        best_trial=best_number,
        best_config=best_config,
        best_config_path=best_path,
        metric=metric,
        direction=direction,
        parent_run_id=None,
        trials_path=trials_path,
        storage=storage_url,
        trials=rows,
        **counts,
    )
