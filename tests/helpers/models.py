"""Tiny models for tests: the band model, the oracle and a random tiny U-Net.

The band model (:mod:`tests.helpers.band_plugin`) turns grey levels into
classes, so a plate drawn by :func:`tests.helpers.plates.draw_plate` with a
dark root at a known place must come back with its tip there. The oracle is
the same module with bands so sharp that its probabilities are (almost) 0 or
1: on a drawn plate its masks equal the drawn truth.

Drawn plates are small: a 129 mm dish 440 px across is 3.4 px/mm, a sixth of a
Hades frame. The band model and the oracle classify pixel by pixel, so they see
every resolution alike, and a random U-Net has nothing to lose; their configs
say so (:data:`ANY_RESOLUTION`), and they run drawn plates at their own
``scale`` instead of resampling them to 20 px/mm
(:mod:`visionkit.inference.resolution`).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.band_plugin import band_net
from visionkit.modelfolder import ModelConfig, SavedModel, build_model, save_model

__all__ = [
    "ANY_RESOLUTION",
    "BAND_PLUGIN",
    "TINY_UNET",
    "band_model",
    "oracle_model",
    "save_tiny_unet",
]

#: The band architecture as a plugin file (``--plugin`` or ``get_plugin_manager``).
BAND_PLUGIN = Path(__file__).with_name("band_plugin.py")

#: ``ModelConfig.extra`` of a model that sees plates from 1 to 39 px/mm alike:
#: as if trained with a zoom range of +-95 % (``TrainConfig.scale_jitter``).
ANY_RESOLUTION = {"train_config": {"data_scale": 1.0, "scale_jitter": 0.95}}

#: A small real U-Net (resnet18 encoder, three levels) at working scale 1.
TINY_UNET = ModelConfig(
    architecture="unet",
    params={"encoder_name": "resnet18", "encoder_depth": 3, "decoder_channels": [16, 8, 4]},
    scale=1.0,
    name="tiny-unet",
    version="7",
    extra=ANY_RESOLUTION,
)


def band_model(*, scale: float = 1.0, temperature: float = 1.0) -> SavedModel:
    """The band model wrapped as a loaded model (no folder on disk)."""
    config = ModelConfig(
        architecture="band",
        scale=scale,
        temperature=temperature,
        name="band",
        version="1",
        extra=ANY_RESOLUTION,
    )
    return SavedModel(module=band_net(), config=config, path=Path("<band>"), sha256="b" * 64)


def oracle_model() -> SavedModel:
    """A loaded model that segments drawn plates perfectly (no folder on disk)."""
    config = ModelConfig(
        architecture="band", scale=1.0, name="oracle", version="1", extra=ANY_RESOLUTION
    )
    return SavedModel(
        module=band_net(sharpness=400.0), config=config, path=Path("<oracle>"), sha256="0" * 64
    )


def save_tiny_unet(folder: Path) -> Path:
    """Save a tiny U-Net with weights from seed 0 as a model folder; returns the folder."""
    import torch

    torch.manual_seed(0)
    return save_model(build_model(TINY_UNET), folder, TINY_UNET)
