"""Checkpoints that survive Ctrl-C and ``kill -9``, read back without unpickling.

A checkpoint is a model folder (``model.safetensors``, ``config.json``,
``MODEL_CARD.md``, loadable with :func:`~visionkit.modelfolder.load_model`)
plus two files::

    out/checkpoints/last/
      model.safetensors     the weights (BatchNorm statistics included)
      config.json           the model config
      MODEL_CARD.md
      state.pt              optimiser, scheduler, grad scaler, RNG, epoch, step,
                            early stopping, history, MLflow run id
      train_config.json     the TrainConfig of the run

``state.pt`` is written with :func:`torch.save` and read with
``torch.load(weights_only=True)``: only tensors and plain containers of
numbers and strings, never arbitrary objects.

Every folder is written under a hidden temporary name and swapped in with two
renames (old aside, new in), so a kill at any instant leaves either the new
checkpoint or the previous one; :func:`find_checkpoint` also accepts the
previous one set aside, should a kill land between the two renames.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from visionkit.exceptions import ModelError
from visionkit.modelfolder import WEIGHTS_FILE, ModelConfig, save_model
from visionkit.training.config import TrainConfig

__all__ = [
    "CHECKPOINT_DIR",
    "STATE_FILE",
    "TRAIN_CONFIG_FILE",
    "Checkpoint",
    "find_checkpoint",
    "load_checkpoint",
    "replace_folder",
    "save_checkpoint",
    "save_model_folder",
]

logger = logging.getLogger(__name__)

#: Where checkpoints live inside the run's output folder.
CHECKPOINT_DIR = Path("checkpoints") / "last"
STATE_FILE = "state.pt"
TRAIN_CONFIG_FILE = "train_config.json"


@dataclass
class Checkpoint:
    """A checkpoint read back: where, which run, the weights and the state."""

    folder: Path
    config: TrainConfig
    weights: dict[str, torch.Tensor]
    state: dict[str, Any]


def _aside(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old")


def _temporary(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.tmp-{os.getpid()}")


def replace_folder(new: Path, folder: Path) -> Path:
    """Put the complete folder ``new`` at ``folder``, keeping the old one until it is in place."""
    aside = _aside(folder)
    if aside.exists():
        shutil.rmtree(aside)
    if folder.exists():
        os.replace(folder, aside)
    os.replace(new, folder)
    shutil.rmtree(aside, ignore_errors=True)
    return folder


def _fresh_temporary(folder: Path) -> Path:
    tmp = _temporary(folder)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    return tmp


def save_model_folder(
    module: torch.nn.Module, folder: str | os.PathLike[str], config: ModelConfig, card: str
) -> Path:
    """:func:`~visionkit.modelfolder.save_model` into ``folder``, replacing it atomically."""
    target = Path(folder)
    tmp = _fresh_temporary(target)
    save_model(module, tmp, config, card=card)
    return replace_folder(tmp, target)


def save_checkpoint(
    out_dir: str | os.PathLike[str],
    module: torch.nn.Module,
    model_config: ModelConfig,
    train_config: TrainConfig,
    state: dict[str, Any],
    *,
    card: str,
) -> Path:
    """Write the run's checkpoint to ``out_dir/checkpoints/last`` (atomically).

    Args:
        out_dir: the run's output folder.
        module: the network.
        model_config: how to rebuild it.
        train_config: the run's settings.
        state: tensors, numbers, strings, lists and dicts only.
        card: the checkpoint's model card.
    """
    target = Path(out_dir) / CHECKPOINT_DIR
    tmp = _fresh_temporary(target)
    save_model(module, tmp, model_config, card=card)
    torch.save(state, tmp / STATE_FILE)
    train_config.to_file(tmp / TRAIN_CONFIG_FILE)
    replace_folder(tmp, target)
    logger.debug("checkpoint written to %s", target)
    return target


def find_checkpoint(out_dir: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint folder of a run, or ``None``."""
    target = Path(out_dir) / CHECKPOINT_DIR
    for folder in (target, _aside(target)):
        if all((folder / name).is_file() for name in (WEIGHTS_FILE, STATE_FILE, TRAIN_CONFIG_FILE)):
            if folder != target:
                logger.warning("using the previous checkpoint %s (the last write was cut)", folder)
            return folder
    return None


def load_checkpoint(out_dir: str | os.PathLike[str]) -> Checkpoint:
    """Read the run's last checkpoint.

    Raises:
        ModelError: there is none (says where it looked and how to start
            afresh), or a file of it is unreadable.
    """
    folder = find_checkpoint(out_dir)
    if folder is None:
        raise ModelError(
            f"{Path(out_dir) / CHECKPOINT_DIR}: no checkpoint to resume from; "
            "check --out, or start a new run without --resume"
        )
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config = TrainConfig.from_file(folder / TRAIN_CONFIG_FILE)
    try:
        weights = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{folder / WEIGHTS_FILE}: unreadable checkpoint weights ({exc})") from exc
    try:
        state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ModelError(f"{folder / STATE_FILE}: unreadable checkpoint state ({exc})") from exc
    if not isinstance(state, dict):
        raise ModelError(f"{folder / STATE_FILE}: not a training state (a {type(state).__name__})")
    return Checkpoint(folder=folder, config=config, weights=weights, state=state)
