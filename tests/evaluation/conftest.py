"""Plates whose answer is known, and models that see them perfectly or not at all.

``oracle_model`` is a real torch module that classifies each pixel by its
grey level (agar, root, shoot, seed each drawn at their own level), so on a
drawn plate its masks equal the drawn ground truth and its probabilities
are (almost) 0 or 1: an evaluation of it must score F1 1.0 and ECE ~0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from visionkit.modelfolder import ModelConfig, SavedModel, build_model, save_model

#: Grey level of each class on a drawn plate; the frame outside the dish is dark.
AGAR, ROOT, SHOOT, SEED, RIM = 200, 60, 120, 160, 10
#: Millimetres per pixel written into the drawn plates' landmarks.
MM_PER_PX = 0.1

TINY_UNET = ModelConfig(
    architecture="unet",
    params={"encoder_name": "resnet18", "encoder_depth": 3, "decoder_channels": [16, 8, 4]},
    scale=1.0,
    name="tiny-unet",
    version="3",
)


def _oracle_module() -> Any:
    import torch

    class Oracle(torch.nn.Module):
        """Logits peak sharply at each class's grey level (normalised as the model expects)."""

        def __init__(self) -> None:
            super().__init__()
            levels = torch.tensor([AGAR, ROOT, SHOOT, SEED, -500.0]) / 255.0
            self.register_buffer("centres", ((levels - 0.5) / 0.25).view(1, 5, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return -400.0 * (x - self.centres) ** 2

    return Oracle().eval()


@pytest.fixture(scope="session")
def oracle_model() -> SavedModel:
    """A loaded model that segments drawn plates perfectly (no folder on disk)."""
    config = ModelConfig(architecture="unet", scale=1.0, name="oracle", version="1")
    return SavedModel(
        module=_oracle_module(), config=config, path=Path("<oracle>"), sha256="0" * 64
    )


@dataclass
class DrawnPlate:
    """A drawn plate: image, masks, and its plants' true start, tip and length."""

    image: np.ndarray
    masks: dict[str, np.ndarray]
    plants: list[dict[str, Any]]


def draw_plate(
    *, width: int = 480, height: int = 400, plants: int = 3, root_length: int = 180
) -> DrawnPlate:
    """A dark frame, a light dish, seedlings with a seed, a shoot disc and a straight root."""
    import cv2

    image = np.full((height, width), RIM, np.uint8)
    x0, y0, x1, y1 = 40, 20, width - 40, height - 20
    image[y0:y1, x0:x1] = AGAR
    masks = {c: np.zeros((height, width), np.uint8) for c in ("root", "shoot", "seed")}
    records: list[dict[str, Any]] = []
    span = (x1 - x0) / (plants + 1)
    for i in range(plants):
        cx, cy = round(x0 + span * (i + 1)), y0 + 50
        length = root_length - 25 * i
        start, tip = (cx, cy + 8), (cx, cy + 8 + length)
        cv2.line(masks["root"], start, tip, 1, 3)
        cv2.circle(masks["shoot"], (cx, cy), 8, 1, -1)
        cv2.circle(masks["seed"], (cx + 4, cy + 10), 3, 1, -1)
        records.append(
            {
                "plant": i + 1,
                "present": True,
                "start": {"x": float(start[0]), "y": float(start[1])},
                "tip": {"x": float(tip[0]), "y": float(tip[1])},
                "primary_root_length_px": float(length),
                "primary_root_length_mm": length * MM_PER_PX,
            }
        )
    # Later classes win where masks overlap, as in the label map (seed > shoot > root).
    masks["shoot"][masks["seed"] > 0] = 0
    masks["root"][(masks["shoot"] > 0) | (masks["seed"] > 0)] = 0
    for cls, level in (("root", ROOT), ("shoot", SHOOT), ("seed", SEED)):
        image[masks[cls] > 0] = level
    return DrawnPlate(image=image, masks=masks, plants=records)


def write_plate(
    folder: Path, stem: str, plate: DrawnPlate, *, landmarks: list[dict[str, Any]] | None = None
) -> None:
    """Save a drawn plate in the Hades convention (masks 0/1 TIFF, landmarks JSON)."""
    from visionkit.imageio import write_image

    folder.mkdir(parents=True, exist_ok=True)
    write_image(folder / f"{stem}.png", plate.image)
    for cls, mask in plate.masks.items():
        write_image(folder / f"{stem}_{cls}_mask.tif", mask)
    height, width = plate.image.shape
    record = {
        "image": f"{stem}.png",
        "width": width,
        "height": height,
        "dish": {"mm_per_px": MM_PER_PX},
        "plants": plate.plants if landmarks is None else landmarks,
    }
    (folder / f"{stem}.landmarks.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture(scope="session")
def drawn_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two drawn plates with exact masks and landmarks."""
    folder = tmp_path_factory.mktemp("drawn")
    write_plate(folder, "plate_a", draw_plate())
    write_plate(folder, "plate_b", draw_plate(plants=4, root_length=200))
    return folder


@pytest.fixture(scope="session")
def synth_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small synthetic plates (1/8 of a Hades frame) with masks and landmarks."""
    from visionkit.synth import SynthConfig
    from visionkit.synth.dataset import generate_dataset

    folder = tmp_path_factory.mktemp("synth")
    config = SynthConfig(root_length_mm=(20.0, 40.0)).scaled(0.125)
    generate_dataset(folder, 2, 5, config=config, progress=False)
    return folder


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny U-Net saved as a model folder."""
    import torch

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-unet")
    save_model(build_model(TINY_UNET), folder, TINY_UNET)
    return folder
