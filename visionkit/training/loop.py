"""The training loop: reproducible, resumable, tracked.

:func:`train` runs :class:`~visionkit.training.config.TrainConfig` to the end
and leaves in ``out_dir``::

    train.log               everything logged (appended to on resume)
    train_config.yaml       the settings
    checkpoints/last/       written every epoch and on Ctrl-C (see checkpoint.py)
    best/                   model folder of the best validation epoch
    last/                   model folder of the final weights
    curves.png              loss and validation IoU per epoch
    overlays/               validation patches with the predicted root in red

Reproducible: on the CPU a seed gives the same weights, run after run,
because the weights' initialisation is seeded, every patch depends only on
``(seed, epoch, index)`` and deterministic kernels are requested.

A run folder holds one run: :func:`train` refuses an ``out_dir`` that holds
an earlier run's files unless ``resume`` (continue it) or ``exist_ok``
(write over it) is given, and a start that fails (no data, an unknown
architecture, CUDA without a GPU...) leaves nothing behind: a folder it made
is removed again, and an existing one keeps only what it held. Each run is
named in MLflow ``<model name>-<UTC start time>`` (the model name defaults to
the folder's name); a resumed run keeps its MLflow run and name.

Resumable with nothing lost: a Ctrl-C (SIGINT) is noted and acted on between
two optimiser steps: the checkpoint then holds the state after the last whole
step, with the position inside the epoch, and ``resume=True`` continues at
the very next batch, so the final weights equal those of an uninterrupted
run. A second Ctrl-C stops at once, keeping the previous checkpoint.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from visionkit.exceptions import ModelError
from visionkit.imageio import write_image
from visionkit.modelfolder import ModelConfig, build_model, load_model
from visionkit.threads import opencv_threads
from visionkit.tracking import MlflowTracker, Tracker
from visionkit.training.card import build_model_config, model_card
from visionkit.training.checkpoint import (
    CHECKPOINT_DIR,
    Checkpoint,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
    save_model_folder,
)
from visionkit.training.config import RESUMABLE_KEYS, TrainConfig
from visionkit.training.data import TrainingData, build_training_data, iter_val_batches
from visionkit.training.device import deterministic, resolve_device, use_amp
from visionkit.training.early_stopping import is_improvement
from visionkit.training.losses import build_loss
from visionkit.training.metrics import ConfusionMatrix
from visionkit.training.plots import overlay_patch, plot_curves
from visionkit.training.provenance import code_version, environment, run_cost
from visionkit.training.schedule import build_scheduler

if TYPE_CHECKING:
    import pluggy

__all__ = ["StepInfo", "TrainResult", "train"]

logger = logging.getLogger(__name__)

LOG_FILE = "train.log"
CONFIG_FILE = "train_config.yaml"
CURVES_FILE = "curves.png"
OVERLAY_DIR = "overlays"
N_OVERLAYS = 4


@dataclass(frozen=True)
class StepInfo:
    """What :func:`train`'s ``on_step`` callback is told after each optimiser step.

    Attributes:
        epoch: the epoch, 0-based.
        step: optimiser steps done in this epoch.
        steps_per_epoch: optimiser steps in an epoch.
        loss: this step's loss.
    """

    epoch: int
    step: int
    steps_per_epoch: int
    loss: float


@dataclass
class TrainResult:
    """What a run left behind.

    Attributes:
        out_dir: the run's folder.
        best_dir: model folder of the best epoch (``None`` before one finished).
        last_dir: model folder of the final weights (``None`` when interrupted).
        checkpoint_dir: the checkpoint to resume from.
        epochs_done: whole epochs trained (over all sessions).
        best_epoch: the best epoch (1-based), or ``None``.
        best_metric: its early-stopping metric.
        metrics: the last finished epoch's metrics.
        history: every finished epoch's metrics, in order.
        data_version: the training folder's data version.
        run_id: the MLflow run, or ``None`` without tracking.
        registered_version: the model registry version, when registered.
        interrupted: stopped by Ctrl-C; resume to continue.
        stopped_early: stopped by early stopping.
        resumed_at: the epoch (1-based) this session resumed in, or ``None``.
        already_finished: ``resume`` found a run that had finished (all its
            epochs, or early stopping): nothing was trained.
    """

    out_dir: Path
    best_dir: Path | None
    last_dir: Path | None
    checkpoint_dir: Path
    epochs_done: int
    best_epoch: int | None
    best_metric: float | None
    metrics: dict[str, float]
    history: list[dict[str, float]]
    data_version: str
    run_id: str | None = None
    registered_version: str | None = None
    interrupted: bool = False
    stopped_early: bool = False
    resumed_at: int | None = None
    already_finished: bool = False


@dataclass
class _State:
    """Everything beyond the weights that a checkpoint must hold."""

    epoch: int = 0
    step: int = 0
    loss_sum: float = 0.0
    seen: int = 0
    train_time: float = 0.0
    wait_time: float = 0.0
    wall_time: float = 0.0
    planned_epochs: int | None = None
    best: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    run_id: str | None = None
    run_name: str = ""
    data_version: str = ""
    val_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _State:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class _StopFlag:
    """Turns the first Ctrl-C into a request to stop between steps.

    DataLoader workers are forked with this handler and get the same Ctrl-C
    (it goes to the whole process group); they ignore it, and the training
    process shuts them down when it stops.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False
        self._pid = os.getpid()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._pid:
            return
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning(
            "interrupt: stopping after this batch and saving a checkpoint "
            "(press Ctrl-C again to stop at once)"
        )

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._pid = os.getpid()
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


#: Loggers whose INFO records make up ``train.log`` (and reach the console).
_LOGGED = ("visionkit.training", "visionkit.tracking", "visionkit.data")


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Copy the training, tracking and data loggers' records (INFO and up) into ``path``.

    Those loggers are set to INFO while the block runs (and restored after),
    so their progress also reaches any console handler the caller set up.
    """
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("visionkit")
    package.addHandler(handler)
    previous = {}
    for name in _LOGGED:
        log = logging.getLogger(name)
        previous[name] = log.level
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
    try:
        yield
    finally:
        package.removeHandler(handler)
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)
        handler.close()


def _check_resume(config: TrainConfig, checkpoint: Checkpoint) -> None:
    differing = config.differences(checkpoint.config, ignore=RESUMABLE_KEYS)
    if differing:
        old, new = checkpoint.config.to_dict(), config.to_dict()
        details = "; ".join(f"{k}: {old[k]!r} in the checkpoint, {new[k]!r} now" for k in differing)
        raise ModelError(
            f"{checkpoint.folder}: the config differs from the checkpoint's in "
            f"{', '.join(differing)} ({details}); resume with the same settings "
            "(only " + ", ".join(sorted(RESUMABLE_KEYS)) + " may change) or start a new run "
            "in another --out folder"
        )


class _Run:
    """One training session (fresh or resumed); see :func:`train`."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume: bool,
        tracker: Tracker | None,
        progress: bool,
        command: str,
        on_step: Callable[[StepInfo], None] | None,
        pm: pluggy.PluginManager | None = None,
        exist_ok: bool = False,
    ) -> None:
        self.config = config
        self.pm = pm
        self.exist_ok = exist_ok
        self.out = Path(config.out_dir)
        self.progress = progress
        self.command = command
        self.on_step = on_step
        self.resume = resume
        self.tracker: Tracker = (
            tracker
            if tracker is not None
            else (MlflowTracker(config.experiment) if config.track else Tracker())
        )
        self.code_version = code_version()
        self.stop = _StopFlag()
        self.samples: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self._epoch_started = time.perf_counter()
        # The set-up, in order; any failure here means nothing was trained.
        self.device = resolve_device(config.device)
        self.amp = use_amp(self.device, config.amp)
        self.checkpoint = self._load_checkpoint()
        self.data: TrainingData = build_training_data(config)
        self.state = self._initial_state()
        torch.manual_seed(config.seed)
        self.model_config = build_model_config(config, {})
        self.model = self._network()
        self.loss_fn = build_loss(
            config.loss,
            config.classes,
            loss_weights=config.loss_weights,
            class_weights=config.class_weights,
        ).to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.steps_per_epoch = math.ceil(len(self.data.train) / config.batch_size)
        self.scheduler = build_scheduler(
            self.optimizer, config.schedule, lambda: self.epochs * self.steps_per_epoch
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        if self.checkpoint is not None:
            self._restore_optimisation(self.checkpoint)

    # -- set-up ------------------------------------------------------------

    def _load_checkpoint(self) -> Checkpoint | None:
        """The checkpoint to resume from; refuses an earlier run's without ``resume``."""
        if self.resume:
            checkpoint = load_checkpoint(self.out)
            _check_resume(self.config, checkpoint)
            return checkpoint
        if find_checkpoint(self.out) is not None and not self.exist_ok:
            raise ModelError(
                f"{self.out / CHECKPOINT_DIR}: holds the checkpoint of an earlier run; "
                "pass --resume to continue it, or choose another --out folder"
            )
        return None

    def _initial_state(self) -> _State:
        """A fresh state for this data, or the checkpoint's (refused if the data changed)."""
        state = _State(data_version=self.data.data_version, val_version=self.data.val_version or "")
        if self.checkpoint is None:
            return state
        saved = _State.from_dict(self.checkpoint.state["run"])
        if (saved.data_version, saved.val_version) != (state.data_version, state.val_version):
            raise ModelError(
                f"{self.checkpoint.folder}: the data changed since the checkpoint (data version "
                f"{saved.data_version[:12]} then, {state.data_version[:12]} now); "
                "resume on the same data or start a new run"
            )
        return saved

    def _network(self) -> torch.nn.Module:
        """The network on its device: new, from ``init_from``, or the checkpoint's weights."""
        model = build_model(self.model_config, self.pm)
        if self.checkpoint is not None:
            model.load_state_dict(self.checkpoint.weights)
        elif self.config.init_from is not None:
            self._start_from(model, self.config.init_from)
        model.to(self.device)
        if self.config.channels_last:
            model.to(memory_format=torch.channels_last)
        return model

    def _restore_optimisation(self, checkpoint: Checkpoint) -> None:
        """Optimiser, schedule, gradient scaler and random state as the checkpoint left them."""
        saved = checkpoint.state
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        torch.set_rng_state(saved["rng"])
        if self.device.type == "cuda" and saved.get("cuda_rng"):
            torch.cuda.set_rng_state_all(saved["cuda_rng"])

    def _start_from(self, model: torch.nn.Module, folder: str) -> None:
        """Load the weights of model ``folder`` into the new network (fine-tuning).

        Raises:
            ModelError: the folder is not a model, or its architecture,
                parameters, classes or input channels differ from this run's.
        """
        saved = load_model(folder, pm=self.pm)
        mine, theirs = self.model_config, saved.config
        keys = ("architecture", "params", "classes", "in_channels")
        differ = [key for key in keys if getattr(mine, key) != getattr(theirs, key)]
        if differ:
            details = "; ".join(
                f"{key}: {getattr(theirs, key)!r} there, {getattr(mine, key)!r} here"
                for key in differ
            )
            raise ModelError(f"{folder}: cannot start from this model ({details})")
        model.load_state_dict(saved.module.state_dict())
        logger.info("starting from the weights of %s (%s v%s)", folder, theirs.name, theirs.version)

    def _start_tracking(self, resumed: bool) -> None:
        config = self.config
        previous = self.state.run_id
        if not self.state.run_name:
            started = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            self.state.run_name = f"{config.name}-{started}"
        run_id = self.tracker.start(run_name=self.state.run_name, run_id=previous)
        self.state.run_id = run_id
        if run_id is not None and run_id == previous:
            self.tracker.set_tags(
                {"resumed_at_epoch": str(self.state.epoch + 1), "epochs": str(config.epochs)}
            )
            return
        self.tracker.log_params(config.flat())
        tags = {
            "data_version": self.data.data_version,
            "code_version": self.code_version,
            "command": self.command,
            "model_name": config.name,
            "out_dir": str(self.out),
            **environment(str(self.device)),
        }
        if self.data.val_version:
            tags["val_data_version"] = self.data.val_version
        if resumed:
            tags["resumed_at_epoch"] = str(self.state.epoch + 1)
        self.tracker.set_tags(tags)

    # -- saving --------------------------------------------------------------

    def _extra(self, metrics: dict[str, float], epoch: int | None) -> dict[str, Any]:
        return {
            "data_version": self.data.data_version,
            "val_data_version": self.data.val_version,
            "code_version": self.code_version,
            "command": self.command,
            "train_config": self.config.to_dict(),
            "epoch": epoch,
            "metrics": {k: v for k, v in metrics.items() if not math.isnan(v)},
            "mlflow_run_id": self.state.run_id,
        }

    def _card(self, title: str, metrics: dict[str, float], epoch: int | None) -> str:
        return model_card(
            self.config,
            title=title,
            data_version=self.data.data_version,
            val_version=self.data.val_version,
            command=self.command,
            code_version=self.code_version,
            metrics=metrics,
            epoch=epoch,
            train_plates=len(self.data.train_stems),
            val_plates=len(self.data.val_stems),
        )

    def _model_config(self, metrics: dict[str, float], epoch: int | None) -> ModelConfig:
        return build_model_config(self.config, self._extra(metrics, epoch))

    def _save_model(
        self, name: str, title: str, metrics: dict[str, float], epoch: int | None
    ) -> Path:
        return save_model_folder(
            self.model,
            self.out / name,
            self._model_config(metrics, epoch),
            self._card(title, metrics, epoch),
        )

    def _checkpoint(self) -> Path:
        history = self.state.history
        metrics = history[-1] if history else {}
        epoch = len(history) or None
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "run": self.state.to_dict(),
        }
        return save_checkpoint(
            self.out,
            self.model,
            self._model_config(metrics, epoch),
            self.config,
            state,
            card=self._card("checkpoint", metrics, epoch),
        )

    # -- one epoch -------------------------------------------------------------

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def _to_device(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device, non_blocking=True)
        if self.config.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    def _train_epoch(self, epoch: int) -> None:
        from torch.utils.data import DataLoader
        from tqdm import tqdm

        config, state = self.config, self.state
        self.data.train.set_epoch(epoch)
        self.data.order.set_epoch(epoch)
        self.data.order.start_at(state.step * config.batch_size)
        loader = DataLoader(
            self.data.train,
            batch_size=config.batch_size,
            sampler=self.data.order,
            num_workers=config.num_workers,
            pin_memory=self.device.type == "cuda",
        )
        self.model.train()
        bar = tqdm(
            total=self.steps_per_epoch,
            initial=state.step,
            desc=f"epoch {epoch + 1}/{self.epochs}",
            unit="batch",
            disable=not self.progress,
            leave=False,
        )
        started = waited = time.perf_counter()
        try:
            for images, labels in loader:
                state.wait_time += time.perf_counter() - waited
                loss = self._step(images, labels)
                state.step += 1
                state.seen += len(labels)
                state.loss_sum += loss * len(labels)
                bar.update()
                fraction = state.step / self.steps_per_epoch
                eta = self._run_eta(epoch, time.perf_counter() - self._epoch_started, fraction)
                bar.set_postfix(loss=f"{state.loss_sum / state.seen:.4f}", run_eta=eta)
                if self.on_step is not None:
                    self.on_step(StepInfo(epoch, state.step, self.steps_per_epoch, loss))
                if self.stop.requested:
                    break
                waited = time.perf_counter()
        except RuntimeError:
            if not self.stop.requested:  # a worker killed by the same Ctrl-C otherwise
                raise
        finally:
            bar.close()
            state.train_time += time.perf_counter() - started

    def _step(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        images = self._to_device(images)
        labels = labels.to(self.device, non_blocking=True)
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            logits = self.model(images)
            loss = self.loss_fn(logits, labels)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach())

    @torch.no_grad()
    def _validate(self) -> dict[str, float] | None:
        """Validation metrics, or ``None`` when a Ctrl-C cut it short."""
        config = self.config
        self.model.eval()
        matrix = ConfusionMatrix(len(config.classes))
        loss_sum, count = 0.0, 0
        root = config.classes.index("root")
        samples: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        for images, labels, patches in iter_val_batches(
            self.data.val_sampler, config.batch_size, config.normalize
        ):
            if self.stop.requested:
                return None
            with self._autocast():
                logits = self.model(self._to_device(images))
                loss = self.loss_fn(logits, labels.to(self.device))
            predicted = logits.argmax(1).cpu().numpy()
            truth = labels.numpy()
            matrix.update(predicted, truth)
            loss_sum += float(loss) * len(labels)
            count += len(labels)
            for patch, pred, lab in zip(patches, predicted, truth, strict=True):
                score = int((lab == root).sum())
                if score and (len(samples) < N_OVERLAYS or score > samples[-1][0]):
                    samples.append((score, patch.image, pred, lab))
                    samples.sort(key=lambda s: -s[0])
                    del samples[N_OVERLAYS:]
        self.samples = samples
        metrics = matrix.summary(config.classes, prefix="val_")
        metrics["val_loss"] = loss_sum / max(count, 1)
        return metrics

    # -- the run ---------------------------------------------------------------

    def _end_epoch(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Record an epoch, keep the best model, checkpoint; returns whether to stop early."""
        row = self._record(epoch, metrics)
        self._keep_best(epoch, row)
        logger.info("epoch %d/%d: %s", epoch + 1, self.epochs, self._epoch_summary(row))
        self._close_epoch(epoch)
        return self._stops_early()

    def _record(self, epoch: int, metrics: dict[str, float]) -> dict[str, float]:
        """The epoch's row of the history, also logged to the tracker."""
        state = self.state
        row = {
            "epoch": float(epoch + 1),
            "train_loss": state.loss_sum / max(state.seen, 1),
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "patches_per_s": state.seen / state.train_time if state.train_time > 0 else 0.0,
            # Where a slow epoch's time went: waiting for the DataLoader, or the steps.
            "data_wait_share": state.wait_time / state.train_time if state.train_time > 0 else 0.0,
            **metrics,
        }
        state.history.append(row)
        self.tracker.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=epoch + 1)
        return row

    def _keep_best(self, epoch: int, row: dict[str, float]) -> None:
        """Save ``best/`` when the early-stopping metric improved; count the epochs it did not."""
        config, state = self.config, self.state
        value = row[config.early_stopping_metric]
        if is_improvement(value, state.best, higher_is_better=config.higher_is_better):
            state.best, state.best_epoch, state.bad_epochs = value, epoch + 1, 0
            self._save_model("best", f"best model (epoch {epoch + 1})", row, epoch + 1)
        else:
            state.bad_epochs += 1

    def _close_epoch(self, epoch: int) -> None:
        """Account the epoch's time, re-plan for the time limit, reset counters, checkpoint."""
        state = self.state
        state.wall_time += time.perf_counter() - self._epoch_started
        self._fit_time_limit(epoch)
        state.epoch, state.step, state.loss_sum, state.seen = epoch + 1, 0, 0.0, 0
        state.train_time = state.wait_time = 0.0
        self._checkpoint()

    def _stops_early(self) -> bool:
        """Whether the metric has not improved for ``early_stopping_patience`` epochs."""
        patience = self.config.early_stopping_patience
        if patience and self.state.bad_epochs >= patience:
            logger.info(
                "early stopping: %s did not improve for %d epochs",
                self.config.early_stopping_metric,
                patience,
            )
            return True
        return False

    def _run_eta(self, epoch: int, elapsed: float, fraction: float) -> str:
        """The whole run's time left, from the epochs so far (``"?"`` before any data).

        ``elapsed`` seconds of epoch ``epoch`` (0-based) are spent and
        ``fraction`` of it is done; whole epochs before it took
        ``state.wall_time`` (validation included).
        """
        if epoch > 0:
            per_epoch = self.state.wall_time / epoch
        elif fraction > 0:
            per_epoch = elapsed / fraction
        else:
            return "?"
        return _duration(max(0.0, per_epoch * (self.epochs - epoch - fraction)))

    def _epoch_summary(self, row: dict[str, float]) -> str:
        """The epoch's line: losses, root IoU, the early-stopping metric once, speed."""
        config, state = self.config, self.state
        shown = {"train_loss": "train loss", "val_loss": "val loss", "val_root_iou": "val root IoU"}
        parts = [f"{label} {row.get(key, math.nan):.4f}" for key, label in shown.items()]
        best = state.best if state.best is not None else math.nan
        metric = config.early_stopping_metric
        if metric in shown:
            parts.append(f"best {shown[metric]} {best:.4f} at epoch {state.best_epoch}")
        else:
            parts.append(
                f"{metric} {row[metric]:.4f} (best {best:.4f} at epoch {state.best_epoch})"
            )
        parts.append(
            f"{row['patches_per_s']:.1f} patches/s "
            f"({100.0 * row['data_wait_share']:.0f} % of it waiting for data)"
        )
        done = int(row["epoch"])
        if done < self.epochs:
            spent = state.wall_time + time.perf_counter() - self._epoch_started
            parts.append(f"about {_duration(spent / done * (self.epochs - done))} left for the run")
        return ", ".join(parts)

    @property
    def epochs(self) -> int:
        """The epochs this run will train: ``config.epochs``, or fewer to fit the time limit."""
        planned = self.state.planned_epochs
        return self.config.epochs if planned is None else min(planned, self.config.epochs)

    def _fit_time_limit(self, epoch: int) -> None:
        """Re-plan the run's length so it ends within ``config.time_limit``.

        The average epoch so far (training and validation) says how many
        epochs fit; the plan never drops below the epochs already done, so a
        run out of time ends after the current one. The learning-rate
        schedule reads :attr:`epochs` at every step and follows the new plan.
        """
        limit = self.config.time_limit
        if limit is None:
            return
        done = epoch + 1
        per_epoch = self.state.wall_time / done
        budget = limit * 60.0
        fit = int(budget // per_epoch) if per_epoch > 0 else self.config.epochs
        planned = min(self.config.epochs, max(done, fit))
        if planned != self.epochs:
            logger.info(
                "time limit %.1f min: %.1f s per epoch, so %d of %d epochs fit; "
                "the learning-rate schedule follows the shorter run",
                limit,
                per_epoch,
                planned,
                self.config.epochs,
            )
        self.state.planned_epochs = planned
        if planned == done and done < self.config.epochs:
            logger.info("time limit %.1f min reached after epoch %d", limit, done)

    def _resume_hint(self) -> str:
        return (
            f"resume with `visionkit train {self.config.data_dir} --out {self.out} --resume` "
            "(or train(config, resume=True))"
        )

    def _finished(self) -> bool:
        """Whether the state loaded from a checkpoint is a run that ended."""
        patience = self.config.early_stopping_patience
        stopped = bool(patience) and self.state.bad_epochs >= patience
        return self.state.step == 0 and (self.state.epoch >= self.epochs or stopped)

    def run(self) -> TrainResult:
        """Train to the end (or to Ctrl-C, or early stopping) and say what was left."""
        checkpoint = self.checkpoint
        if self.exist_ok and checkpoint is None and (self.out / CHECKPOINT_DIR).exists():
            # An earlier run's checkpoint must not be resumed into this one.
            shutil.rmtree(self.out / CHECKPOINT_DIR)
        if checkpoint is not None and self._finished():
            logger.info(
                "the run in %s is finished (%d of %d epochs); nothing to resume. To train "
                "longer, resume with a larger --epochs",
                self.out,
                self.state.epoch,
                self.config.epochs,
            )
            last = self.out / "last"
            result = self._result(last if last.is_dir() else None, None, interrupted=False)
            result.already_finished = True
            return result
        resumed_at = self.state.epoch + 1 if checkpoint is not None else None
        if checkpoint is not None:
            logger.info(
                "resumed at epoch %d (step %d of %d) from %s",
                self.state.epoch + 1,
                self.state.step,
                self.steps_per_epoch,
                checkpoint.folder,
            )
        self.config.to_file(self.out / CONFIG_FILE)
        self._start_tracking(resumed=checkpoint is not None)
        interrupted = stopped_early = False
        try:
            with self.stop:
                epoch = self.state.epoch
                while epoch < self.epochs:
                    self._epoch_started = time.perf_counter()
                    if self.state.step < self.steps_per_epoch:
                        self._train_epoch(epoch)
                    metrics = None if self.stop.requested else self._validate()
                    if metrics is None:
                        interrupted = True
                        self._checkpoint()
                        break
                    if self._end_epoch(epoch, metrics):
                        stopped_early = True
                        break
                    epoch += 1
        except KeyboardInterrupt:
            interrupted = True
            logger.warning("stopped at once; the previous checkpoint is kept")
        except BaseException:
            self.tracker.end("FAILED")
            raise
        if interrupted:
            self._log_cost(running=True)
            self.tracker.end("KILLED")
            logger.warning(
                "interrupted in epoch %d (step %d of %d); checkpoint in %s; %s",
                self.state.epoch + 1,
                self.state.step,
                self.steps_per_epoch,
                self.out / CHECKPOINT_DIR,
                self._resume_hint(),
            )
            return self._result(None, resumed_at, interrupted=True)
        return self._finish(resumed_at, stopped_early)

    def _finish(self, resumed_at: int | None, stopped_early: bool) -> TrainResult:
        history = self.state.history
        metrics = history[-1] if history else {}
        epoch = len(history) or None
        last = self._save_model("last", f"final model (epoch {epoch})", metrics, epoch)
        files: list[Path] = [self.out / CONFIG_FILE, self.out / LOG_FILE]
        if history:
            files.append(plot_curves(history, self.out / CURVES_FILE, self.config.classes))
        overlays = self._write_overlays()
        for path in files:
            self.tracker.log_artifact(path)
        if overlays is not None:
            self.tracker.log_artifacts(overlays, OVERLAY_DIR)
        best = self.out / "best"
        registered = None
        if best.is_dir():
            self.tracker.log_artifacts(best, "model")
            if self.config.register:
                registered = self.tracker.register_model(self.config.register, "model")
        self.tracker.log_artifacts(last, "last_model")
        self._log_cost(running=False)
        self.tracker.end("FINISHED")
        logger.info(
            "done: best %s %.4f at epoch %s; models in %s and %s",
            self.config.early_stopping_metric,
            self.state.best if self.state.best is not None else math.nan,
            self.state.best_epoch,
            best,
            last,
        )
        result = self._result(last, resumed_at, interrupted=False)
        result.stopped_early = stopped_early
        result.registered_version = registered
        return result

    def _log_cost(self, *, running: bool) -> None:
        """Log what the run used so far, so MLflow compares runs by cost.

        Tags ``cost.compute`` and ``cost.nodes`` (the Azure VM size inside an
        Azure ML job, else ``local-cpu``/``local-gpu``); metrics ``duration_s``
        (training and validation time over all sessions of a resumed run),
        ``usd_per_hour`` and ``estimated_usd`` from the price table, and
        ``planned_usd``, what :func:`visionkit.costs.estimate_run` planned for
        the configured epochs. Tags, not params: a resumed run may move to
        another machine. An unpriced compute logs its duration alone.
        """
        from visionkit.costs import estimate_run
        from visionkit.exceptions import SettingsError

        seconds = self.state.wall_time
        if running:
            seconds += time.perf_counter() - self._epoch_started
        cost = run_cost(str(self.device), seconds)
        self.tracker.set_tags({"cost.compute": cost["compute"], "cost.nodes": str(cost["nodes"])})
        metrics: dict[str, float] = {"duration_s": cost["duration_s"]}
        if cost["estimated_usd"] is not None:
            metrics["usd_per_hour"] = cost["usd_per_hour"]
            metrics["estimated_usd"] = cost["estimated_usd"]
        config = self.config
        try:
            planned = estimate_run(
                cost["compute"], epochs=config.epochs, nodes=cost["nodes"],
                patches_per_epoch=config.patches_per_epoch, time_limit_min=config.time_limit,
            )  # fmt: skip
        except SettingsError as exc:
            logger.debug("no planned cost for this run: %s", exc)
        else:
            metrics["planned_usd"] = planned.usd
        self.tracker.log_metrics(metrics, step=len(self.state.history))

    def _write_overlays(self) -> Path | None:
        if not self.samples:
            return None
        folder = self.out / OVERLAY_DIR
        folder.mkdir(parents=True, exist_ok=True)
        root = self.config.classes.index("root")
        for rank, (_, image, pred, labels) in enumerate(self.samples, 1):
            write_image(folder / f"val_{rank:02d}.png", overlay_patch(image, pred, labels, root))
        return folder

    def _result(
        self, last: Path | None, resumed_at: int | None, *, interrupted: bool
    ) -> TrainResult:
        state = self.state
        best = self.out / "best"
        return TrainResult(
            out_dir=self.out,
            best_dir=best if best.is_dir() else None,
            last_dir=last,
            checkpoint_dir=self.out / CHECKPOINT_DIR,
            epochs_done=len(state.history),
            best_epoch=state.best_epoch,
            best_metric=state.best,
            metrics=dict(state.history[-1]) if state.history else {},
            history=[dict(row) for row in state.history],
            data_version=self.data.data_version,
            run_id=state.run_id,
            interrupted=interrupted,
            resumed_at=resumed_at,
        )


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    tracker: Tracker | None = None,
    progress: bool = True,
    command: str | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    exist_ok: bool = False,
    pm: pluggy.PluginManager | None = None,
) -> TrainResult:
    """Train a segmentation model as ``config`` says (see the module docstring).

    Args:
        config: the run's settings.
        resume: continue from ``out_dir/checkpoints/last`` (same MLflow run).
        tracker: where to log; ``None`` makes an :class:`~visionkit.tracking.MlflowTracker`
            for ``config.experiment`` when ``config.track``, else logs nothing.
        progress: show a tqdm bar with the running loss.
        command: the command line to record in the model card and run tags.
        on_step: called after every optimiser step (e.g. to watch progress).
        exist_ok: write into an ``out_dir`` that holds an earlier run (its
            files are replaced as the new run writes them).
        pm: the plugin manager whose architectures build the network
            (default: :func:`~visionkit.plugins.default_plugin_manager`).

    Returns:
        Where the models are and how they did; ``interrupted`` after a Ctrl-C.

    Raises:
        DatasetError: the data folders are missing, empty or malformed.
        ModelError: unknown architecture or encoder, CUDA asked for without
            CUDA, nothing to resume from, a resume whose settings or data
            differ from the checkpoint's, or an earlier run's checkpoint in
            ``out_dir`` without ``resume`` or ``exist_ok``.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    out = Path(config.out_dir)
    _check_out_dir(out, resume=resume, exist_ok=exist_ok)
    made_folder = not out.exists()
    kept_log = (out / LOG_FILE).exists()
    out.mkdir(parents=True, exist_ok=True)
    if command is None:
        command = f"visionkit.training.train({shlex.quote(str(config.data_dir))}, ...)"
    redirect = logging_redirect_tqdm() if progress else contextlib.nullcontext()
    # Worker processes are the parallelism; see visionkit.threads.
    threads = opencv_threads(1) if config.num_workers else contextlib.nullcontext()
    started = False
    try:
        with (
            _log_to(out / LOG_FILE),
            deterministic(config.seed, config.deterministic),
            redirect,
            threads,
        ):
            run = _Run(
                config,
                resume=resume,
                tracker=tracker,
                progress=progress,
                command=command,
                on_step=on_step,
                pm=pm,
                exist_ok=exist_ok,
            )
            started = True
            return run.run()
    except BaseException:
        if not started:  # the set-up failed, nothing was trained: leave no trace
            _remove_start(out, made_folder=made_folder, kept_log=kept_log)
        raise


def _duration(seconds: float) -> str:
    """``"40 s"``, ``"12 min"``, ``"1 h 05 min"``: how long, to the precision that matters."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


#: What an earlier run leaves in its folder.
_RUN_FILES = (LOG_FILE, CONFIG_FILE, CHECKPOINT_DIR, "best", "last")


def _check_out_dir(out: Path, *, resume: bool, exist_ok: bool) -> None:
    """Refuse to write a new run over an earlier one unless told to.

    Raises:
        ModelError: ``out`` holds an earlier run's files, with neither
            ``resume`` nor ``exist_ok``; names them and the ways out.
    """
    if resume or exist_ok or not out.is_dir():
        return
    found = [str(name) for name in _RUN_FILES if (out / name).exists()]
    if found:
        raise ModelError(
            f"{out} holds an earlier run ({', '.join(found)}): pass --resume to continue it, "
            f"--exist-ok to train a new run over it, or choose another --out "
            f"(e.g. {_next_free(out)})"
        )


def _next_free(out: Path) -> Path:
    """``out-2``, ``out-3``...: the first sibling folder that does not exist."""
    number = 2
    while out.with_name(f"{out.name}-{number}").exists():
        number += 1
    return out.with_name(f"{out.name}-{number}")


def _remove_start(out: Path, *, made_folder: bool, kept_log: bool) -> None:
    """Undo a start that failed before training: the folder it made, or the log it began."""
    if made_folder:
        shutil.rmtree(out, ignore_errors=True)
    elif not kept_log:
        (out / LOG_FILE).unlink(missing_ok=True)
