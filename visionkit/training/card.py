"""The model config and model card written with every trained model.

The card answers the three questions a reviewer asks before approving a
model: what data (folder and data version), what command (and code version),
and how well it did on validation (per class IoU, F1, precision, recall).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from visionkit.modelfolder import ModelConfig
from visionkit.training.config import TrainConfig

__all__ = ["build_model_config", "model_card"]


def build_model_config(config: TrainConfig, extra: Mapping[str, Any]) -> ModelConfig:
    """The :class:`~visionkit.modelfolder.ModelConfig` of a model trained with ``config``."""
    return ModelConfig(
        architecture=config.architecture,
        params=config.model_params,
        classes=config.classes,
        in_channels=1,
        scale=config.scale,
        patch_size=config.patch_size,
        normalize=config.normalize,
        name=config.name,
        version=config.version,
        extra=dict(extra),
    )


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def model_card(
    config: TrainConfig,
    *,
    title: str,
    data_version: str,
    val_version: str | None,
    command: str,
    code_version: str,
    metrics: Mapping[str, float],
    epoch: int | None,
    train_plates: int,
    val_plates: int,
) -> str:
    """Markdown for ``MODEL_CARD.md``.

    Args:
        config: the run's settings.
        title: what this folder is, e.g. ``"best model (epoch 7)"``.
        data_version: manifest version of the training folder.
        val_version: manifest version of the validation folder (``None``:
            held out from the training folder).
        command: the command line (or call) that trained it.
        code_version: see :func:`~visionkit.training.provenance.code_version`.
        metrics: validation scores (``val_<class>_<score>``, ``val_loss``...).
        epoch: the epoch the weights are from (1-based), ``None`` before any.
        train_plates: plates trained on.
        val_plates: plates validated on.
    """
    if val_version is None:
        val_line = (
            f"{val_plates} plates held out from the same folder by image "
            f"(fraction {config.val_fraction}, split seed {config.split_seed})"
        )
    else:
        val_line = f"`{config.val_dir}`, data version `{val_version}` ({val_plates} plates)"
    lines = [
        f"# {config.name} (version {config.version})",
        "",
        f"{title.capitalize()}: a `{config.architecture}` segmentation network "
        f"({json.dumps(config.model_params)}) for the classes {', '.join(config.classes)}, "
        f"at working scale {config.scale} of a ~20 px/mm Hades frame "
        f"(patches of {config.patch_size} px).",
        "",
        "## Data",
        "",
        f"- training: `{config.data_dir}`, data version `{data_version}` ({train_plates} plates)",
        f"- validation: {val_line}",
        "",
        "## Training",
        "",
        f"- command: `{command}`",
        f"- code version: `{code_version}`",
        f"- {config.epochs} epochs of {config.patches_per_epoch} patches, batch "
        f"{config.batch_size}, AdamW lr {config.lr} ({config.schedule}), weight decay "
        f"{config.weight_decay}, loss {config.loss}, seed {config.seed}",
        "",
        "## Validation" + (f" (epoch {epoch})" if epoch is not None else ""),
        "",
    ]
    if not metrics:
        lines.append("Not validated yet.")
    else:
        lines += ["| class | IoU | F1 | precision | recall |", "| --- | --- | --- | --- | --- |"]
        for cls in config.classes:
            cells = [
                _number(metrics.get(f"val_{cls}_{s}", float("nan")))
                for s in ("iou", "f1", "precision", "recall")
            ]
            lines.append(f"| {cls} | " + " | ".join(cells) + " |")
        lines.append("")
        for key in ("val_mean_iou", "val_mean_f1", "val_loss"):
            if key in metrics:
                lines.append(f"- {key}: {_number(metrics[key])}")
        lines.append("")
        lines.append(
            "Scores are pixel counts over sliding windows of the validation plates at "
            "the working scale; `visionkit evaluate` scores whole images."
        )
    return "\n".join(lines) + "\n"
