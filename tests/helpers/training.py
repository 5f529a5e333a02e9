"""The tiny training runs the training and tuning tests share: a small model and fast settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from visionkit.training.config import TrainConfig

ConfigFactory = Callable[..., TrainConfig]

TINY_MODEL: dict[str, Any] = {
    "architecture": "unet",
    "encoder": "resnet18",
    "arch_params": {"encoder_depth": 3, "decoder_channels": [16, 8, 8]},
}


def tiny_settings(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """The settings of a fast run on :func:`plates`."""
    return {
        "data_dir": str(data_dir),
        "data_scale": 0.125,
        "scale": 0.125,
        "val_fraction": 0.125,
        "patch_size": 64,
        "patches_per_epoch": 16,
        "batch_size": 8,
        "epochs": 2,
        "out_dir": str(out_dir),
        "track": False,
        **TINY_MODEL,
    }
