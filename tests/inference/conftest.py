"""Small models and hand-drawn plates for inference tests.

The band model (:mod:`tests.inference.band_plugin`) turns grey levels into
classes, so a plate drawn here with a dark root at a known place must come
back with its tip there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.inference.band_plugin import AGAR, RIM, ROOT, SHOOT, band_net
from visionkit.modelfolder import ModelConfig, SavedModel, build_model, save_model

BAND_PLUGIN = Path(__file__).with_name("band_plugin.py")

TINY_UNET = ModelConfig(
    architecture="unet",
    params={"encoder_name": "resnet18", "encoder_depth": 3, "decoder_channels": [16, 8, 4]},
    scale=1.0,
    name="tiny-unet",
    version="7",
)


def band_model(*, scale: float = 1.0, temperature: float = 1.0) -> SavedModel:
    """The band model wrapped as a loaded model (no folder on disk)."""
    config = ModelConfig(
        architecture="band",
        scale=scale,
        temperature=temperature,
        name="band",
        version="1",
    )
    return SavedModel(module=band_net(), config=config, path=Path("<band>"), sha256="b" * 64)


@dataclass
class DrawnPlate:
    """A hand-drawn plate and where its plants truly are (input pixels)."""

    image: np.ndarray
    tips: list[tuple[float, float]]
    starts: list[tuple[float, float]]
    dish: tuple[int, int, int, int]


def draw_plate(
    width: int = 640,
    height: int = 480,
    *,
    dish: tuple[int, int, int, int] = (110, 20, 550, 460),
    plants: int = 5,
    root_length: int = 220,
    seed: int = 0,
) -> DrawnPlate:
    """A dark frame, a light square dish, ``plants`` seedlings: shoot disc, straight dark root."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((height, width), RIM, np.uint8)
    x0, y0, x1, y1 = dish
    image[y0:y1, x0:x1] = AGAR
    tips: list[tuple[float, float]] = []
    starts: list[tuple[float, float]] = []
    span = (x1 - x0) / (plants + 1)
    for i in range(plants):
        cx = round(x0 + span * (i + 1))
        cy = y0 + 60
        cv2.circle(image, (cx, cy), 7, SHOOT, -1)
        bottom = cy + 7 + root_length - 20 * i
        cv2.line(image, (cx, cy + 7), (cx, bottom), ROOT, 3)
        tips.append((float(cx), float(bottom)))
        starts.append((float(cx), float(cy + 7)))
    noise = rng.normal(0, 1.5, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    return DrawnPlate(image=image, tips=tips, starts=starts, dish=dish)


@pytest.fixture(scope="session")
def tiny_unet_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-initialised tiny U-Net saved as a model folder."""
    import torch

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-unet")
    save_model(build_model(TINY_UNET), folder, TINY_UNET)
    return folder


@pytest.fixture(scope="session")
def band_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The band model saved as a folder (load it with the band plugin registered)."""
    folder = tmp_path_factory.mktemp("band")
    save_model(band_net(), folder, band_model().config)
    return folder


@pytest.fixture(scope="session")
def tiny_unet(tiny_unet_folder: Path) -> SavedModel:
    """The tiny random U-Net, loaded."""
    from visionkit.modelfolder import load_model

    return load_model(tiny_unet_folder)
