"""What a training run does: one dataclass, saved beside every checkpoint.

:class:`TrainConfig` holds every choice of a run (data, model, patches,
optimiser, loss, device, tracking) so a run can be repeated from its
``train_config.json`` and a resumed run can be checked against the one it
continues. It reads and writes JSON or YAML (by suffix); unknown keys are an
error that lists the valid ones, so a typo in a config file never silently
falls back to a default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from visionkit.exceptions import ModelError
from visionkit.modelfolder import DEFAULT_CLASSES

__all__ = [
    "LOSSES",
    "RESUMABLE_KEYS",
    "SCHEDULES",
    "TrainConfig",
]

#: Learning-rate schedules :func:`~visionkit.training.loop.train` knows.
SCHEDULES: tuple[str, ...] = ("cosine", "onecycle", "constant")

#: Losses :func:`~visionkit.training.losses.build_loss` knows.
LOSSES: tuple[str, ...] = ("dice+ce", "ce", "dice")

#: Keys a resumed run may change: they do not alter what the network learns
#: from a given state (``epochs`` extends or shortens the run; the schedule
#: then follows the new length). The data folders may move, but their data
#: version must stay the same (checked separately).
RESUMABLE_KEYS: frozenset[str] = frozenset(
    {
        "data_dir",
        "val_dir",
        "epochs",
        "device",
        "num_workers",
        "out_dir",
        "early_stopping_patience",
        "time_limit",
        "init_from",
        "deterministic",
        "track",
        "experiment",
        "register",
        "name",
        "version",
    }
)

_DEVICES = ("auto", "cpu", "cuda")


@dataclass
class TrainConfig:
    """Every setting of a training run.

    Attributes:
        data_dir: a folder in the Hades mask convention (training plates).
        val_dir: a separate validation folder; ``None`` splits ``data_dir`` by
            image with :func:`~visionkit.data.split_by_image`.
        val_fraction: share of ``data_dir``'s images held out when ``val_dir``
            is ``None``.
        split_seed: seed of that split (fixed, so reruns validate on the same plates).
        data_scale: resolution of the data relative to a ~20 px/mm Hades frame
            (1.0 for real frames and crops; e.g. 0.25 for ``visionkit synth --scale 0.25``).
        architecture: a registered architecture (``visionkit architectures``).
        encoder: the encoder name (smp), or ``None`` for the architecture's default.
        arch_params: more keyword parameters for the architecture's build.
        classes: output classes, ``background`` first, then data classes.
        scale: working scale relative to a ~20 px/mm frame (0.5 = half).
        scale_jitter: training patches are zoomed by a random factor in
            ``[1 - scale_jitter, 1 + scale_jitter]`` (0 turns it off).
        patch_size: training and validation patch side, working-scale pixels.
        patches_per_epoch: training patches drawn per epoch.
        positive_fraction: share of patches centred near a root pixel.
        dish_only: draw patches inside the dish only.
        augment: apply flips and photometric changes to training patches.
        batch_size: patches per optimiser step.
        epochs: training epochs.
        lr: peak learning rate (AdamW).
        schedule: ``cosine``, ``onecycle`` or ``constant`` (per step).
        weight_decay: AdamW weight decay.
        loss: ``dice+ce``, ``ce`` or ``dice``.
        loss_weights: weights of the ``ce`` and ``dice`` terms.
        class_weights: class -> cross-entropy weight (missing classes weigh
            1); thin roots are a tiny share of pixels, so they weigh more.
        normalize: ``(mean, std)`` applied to pixels scaled to [0, 1].
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        amp: mixed precision on CUDA (ignored on CPU).
        channels_last: NHWC memory layout (halves the CPU step time here).
        seed: seed of the weights' initialisation and of every patch.
        deterministic: ask torch for deterministic kernels, so a seed gives
            the same weights run after run (on the CPU exactly); ``False``
            lets cuDNN pick its fastest kernels instead, for GPU runs where
            speed matters more than bit-for-bit repeats.
        num_workers: DataLoader worker processes (0 loads in this process).
        init_from: a model folder whose weights start the run (fine-tuning);
            it must have the same architecture, parameters and classes.
            ``None`` starts from random weights. A resumed run continues
            from its checkpoint and ignores this.
        cache: read every plate once before training (in parallel, with
            ``num_workers`` processes) and keep them in memory, about 6 MB a
            plate at scale 0.5; workers share them, and each epoch's patches
            are shuffled across all plates instead of a few at a time. The
            way to keep a GPU busy.
        out_dir: where checkpoints, models, logs and plots go.
        early_stopping_patience: stop after this many epochs without
            improvement of ``early_stopping_metric`` (0 never stops early).
        time_limit: minutes of training (validation included) the run may
            take, over all its sessions; ``None`` for no limit. After each
            epoch the run re-plans how many epochs fit, at most ``epochs``,
            and the learning-rate schedule follows that shorter plan, so a
            run cut to fit still ends with a low learning rate. A run that
            is out of time stops after the epoch in progress.
        early_stopping_metric: ``val_loss`` (lower is better) or a
            validation score such as ``val_root_iou`` or ``val_mean_iou``.
        track: log the run to MLflow.
        experiment: the MLflow experiment.
        register: register the best model under this name in the MLflow
            model registry (``None`` registers nothing).
        name: the saved model's name; empty (the default) takes the name of
            ``out_dir`` (``runs/root-unet`` -> ``root-unet``), so runs are told
            apart in MLflow and their model cards without naming each one.
        version: the saved model's version.
    """

    data_dir: str
    val_dir: str | None = None
    val_fraction: float = 0.2
    split_seed: int = 0
    data_scale: float = 1.0
    architecture: str = "unet-small"
    encoder: str | None = None
    arch_params: dict[str, Any] = field(default_factory=dict)
    classes: tuple[str, ...] = DEFAULT_CLASSES
    scale: float = 0.5
    scale_jitter: float = 0.1
    patch_size: int = 256
    patches_per_epoch: int = 512
    positive_fraction: float = 0.5
    dish_only: bool = True
    augment: bool = True
    batch_size: int = 8
    epochs: int = 20
    lr: float = 1e-3
    schedule: str = "cosine"
    weight_decay: float = 1e-4
    loss: str = "dice+ce"
    loss_weights: dict[str, float] = field(default_factory=lambda: {"ce": 1.0, "dice": 1.0})
    class_weights: dict[str, float] = field(
        default_factory=lambda: {"root": 2.0, "occluded_root": 2.0}
    )
    normalize: tuple[float, float] = (0.5, 0.25)
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    seed: int = 0
    deterministic: bool = True
    num_workers: int = 0
    cache: bool = False
    init_from: str | None = None
    out_dir: str = "runs/train"
    early_stopping_patience: int = 10
    early_stopping_metric: str = "val_root_iou"
    time_limit: float | None = None
    track: bool = True
    experiment: str = "visionkit"
    register: str | None = None
    name: str = ""
    version: str = "0"

    def __post_init__(self) -> None:
        self.data_dir = os.fspath(self.data_dir)
        self.out_dir = os.fspath(self.out_dir)
        if not self.name:
            self.name = Path(self.out_dir).resolve().name or "visionkit-model"
        if self.val_dir is not None:
            self.val_dir = os.fspath(self.val_dir)
        if self.init_from is not None:
            self.init_from = os.fspath(self.init_from)
        self.classes = tuple(self.classes)
        mean, std = self.normalize
        self.normalize = (float(mean), float(std))
        self.check()

    # -- validation --------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`~visionkit.exceptions.ModelError` naming every bad value."""
        from visionkit.data.convention import CLASSES

        problems: list[str] = []
        for key in ("patch_size", "patches_per_epoch", "batch_size", "epochs"):
            if int(getattr(self, key)) < 1:
                problems.append(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("scale", "data_scale", "lr"):
            if not float(getattr(self, key)) > 0:
                problems.append(f"{key} must be positive, got {getattr(self, key)}")
        for key in ("scale_jitter", "val_fraction"):
            if not 0.0 <= float(getattr(self, key)) < 1.0:
                problems.append(f"{key} must be in [0, 1), got {getattr(self, key)}")
        if not 0.0 <= self.positive_fraction <= 1.0:
            problems.append(f"positive_fraction must be in [0, 1], got {self.positive_fraction}")
        for key in ("weight_decay", "num_workers", "early_stopping_patience"):
            if getattr(self, key) < 0:
                problems.append(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.time_limit is not None and not float(self.time_limit) > 0:
            problems.append(f"time_limit must be positive (minutes), got {self.time_limit}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule {self.schedule!r} is unknown; valid: {', '.join(SCHEDULES)}")
        if self.loss not in LOSSES:
            problems.append(f"loss {self.loss!r} is unknown; valid: {', '.join(LOSSES)}")
        unknown_terms = sorted(set(self.loss_weights) - {"ce", "dice"})
        if unknown_terms:
            problems.append(f"loss_weights has unknown terms {unknown_terms}; valid: ce, dice")
        if self.device not in _DEVICES:
            problems.append(f"device {self.device!r} is unknown; valid: {', '.join(_DEVICES)}")
        if not self.classes or self.classes[0] != "background":
            problems.append(f"classes must start with 'background', got {list(self.classes)}")
        data_classes = self.classes[1:]
        bad = [c for c in data_classes if c not in CLASSES]
        if not data_classes or bad or len(set(data_classes)) != len(data_classes):
            problems.append(
                f"classes after 'background' must be distinct names among {list(CLASSES)}, "
                f"got {list(data_classes)}"
            )
        if "root" not in data_classes:
            problems.append("classes must include 'root' (patches are centred on roots)")
        stray = sorted(set(self.class_weights) - set(self.classes))
        if stray:
            problems.append(f"class_weights names classes not trained: {stray}")
        if self.normalize[1] <= 0:
            problems.append(f"normalize std must be positive, got {self.normalize[1]}")
        if self.patch_size % 32:
            problems.append(
                f"patch_size must be a multiple of 32 (the encoders halve it five times), "
                f"got {self.patch_size}"
            )
        metrics = self.metric_names
        if self.early_stopping_metric not in metrics:
            problems.append(
                f"early_stopping_metric {self.early_stopping_metric!r} is not a validation "
                f"metric; valid: {', '.join(metrics)}"
            )
        if problems:
            raise ModelError("invalid training config:\n" + "\n".join(f"  - {p}" for p in problems))

    # -- derived values ----------------------------------------------------

    @property
    def data_classes(self) -> tuple[str, ...]:
        """The mask classes read from the data (``classes`` without background)."""
        return self.classes[1:]

    @property
    def model_params(self) -> dict[str, Any]:
        """The architecture's build parameters: ``arch_params`` plus the encoder."""
        params = dict(self.arch_params)
        if self.encoder is not None:
            params["encoder_name"] = self.encoder
        return params

    @property
    def metric_names(self) -> list[str]:
        """The validation metrics an epoch reports (early stopping picks one)."""
        names = ["val_loss", "val_mean_iou", "val_mean_f1", "val_accuracy"]
        for cls in self.classes:
            names += [f"val_{cls}_{score}" for score in ("iou", "f1", "precision", "recall")]
        return names

    @property
    def higher_is_better(self) -> bool:
        """Whether the early-stopping metric improves upwards (scores) or down (loss)."""
        return not self.early_stopping_metric.endswith("loss")

    # -- (de)serialisation -------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-ready dict (tuples become lists)."""
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["normalize"] = list(self.normalize)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "training config") -> TrainConfig:
        """Build a config from a dict; unknown keys are an error listing the valid ones.

        Raises:
            ModelError: an unknown key, a missing ``data_dir`` or a bad value.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"{source}: {_unknown_keys(unknown, known)}")
        if "data_dir" not in data:
            raise ModelError(f"{source}: missing 'data_dir' (the training data folder)")
        values = dict(data)
        for key in ("classes", "normalize"):
            if key in values:
                values[key] = tuple(values[key])
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{source}: {exc}") from exc

    @classmethod
    def check_keys(cls, data: Mapping[str, Any], *, source: str) -> None:
        """Refuse keys that are not settings, suggesting the nearest (``did you mean ...?``).

        Raises:
            ModelError: ``data`` holds an unknown key; the message starts with ``source``.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"{source}: {_unknown_keys(unknown, known)}")

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write JSON (``.json``) or YAML (``.yaml``/``.yml``), atomically."""
        import yaml

        file = Path(path)
        suffix = file.suffix.lower()
        if suffix == ".json":
            text = json.dumps(self.to_dict(), indent=2) + "\n"
        elif suffix in (".yaml", ".yml"):
            text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        else:
            raise ModelError(f"{file}: write a training config as .json, .yaml or .yml")
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, file)
        return file

    @classmethod
    def read_dict(cls, path: str | os.PathLike[str]) -> dict[str, Any]:
        """The raw mapping of a JSON or YAML config file (for partial configs).

        Raises:
            ModelError: the file is missing, unparsable or not a mapping.
        """
        import yaml

        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"{file}: cannot read the training config ({exc})") from exc
        try:
            data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ModelError(f"{file}: not valid JSON/YAML ({exc})") from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ModelError(f"{file}: a training config must be a mapping of keys to values")
        return data

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a config written by :meth:`to_file` (or by hand)."""
        return cls.from_dict(cls.read_dict(path), source=str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (and checked)."""
        return replace(self, **changes)

    def flat(self) -> dict[str, str]:
        """Every setting as ``key -> text``, nested dicts as ``key.sub`` (for MLflow params)."""
        out: dict[str, str] = {}
        for key, value in self.to_dict().items():
            if isinstance(value, dict):
                if not value:
                    out[key] = "{}"
                for sub, item in sorted(value.items()):
                    out[f"{key}.{sub}"] = str(item)
            elif isinstance(value, list):
                out[key] = ",".join(str(v) for v in value)
            else:
                out[key] = str(value)
        return out

    def differences(self, other: TrainConfig, *, ignore: frozenset[str] = frozenset()) -> list[str]:
        """Keys whose values differ between two configs, sorted, except ``ignore``."""
        mine, theirs = self.to_dict(), other.to_dict()
        return sorted(k for k in mine if k not in ignore and mine[k] != theirs[k])


def _unknown_keys(unknown: list[str], known: set[str]) -> str:
    """``unknown key 'patches_per_epch' (did you mean 'patches_per_epoch'?); valid keys: ...``."""
    import difflib

    described = []
    for key in unknown:
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        described.append(f"{key!r} (did you mean {near[0]!r}?)" if near else repr(key))
    noun = "key" if len(unknown) == 1 else "keys"
    return f"unknown {noun} {', '.join(described)}; valid keys are: {', '.join(sorted(known))}"
