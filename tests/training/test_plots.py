"""Pictures of a run: the overlay colours and the curves file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visionkit.imageio import read_image
from visionkit.training.plots import MISSED, PREDICTED, overlay_patch, plot_curves


def test_overlay_colours_predictions_and_misses() -> None:
    image = np.full((4, 4), 128, np.uint8)
    labels = np.zeros((4, 4), np.uint8)
    labels[:, 1] = 1
    prediction = np.zeros((4, 4), np.uint8)
    prediction[:2, 1] = 1
    prediction[0, 3] = 1
    rgb = overlay_patch(image, prediction, labels, 1)
    assert rgb.shape == (4, 4, 3)
    assert rgb.dtype == np.uint8
    assert tuple(rgb[0, 1]) == PREDICTED
    assert tuple(rgb[0, 3]) == PREDICTED
    assert tuple(rgb[3, 1]) == MISSED
    assert tuple(rgb[2, 2]) == (128, 128, 128)
    colour = overlay_patch(np.full((4, 4, 3), 0.5, np.float32), prediction, labels, 1)
    assert tuple(colour[2, 2]) == (127, 127, 127)


def test_curves_file_is_a_picture(tmp_path: Path) -> None:
    history = [
        {"epoch": 1.0, "train_loss": 1.0, "val_loss": 0.9, "val_root_iou": 0.2},
        {"epoch": 2.0, "train_loss": 0.8, "val_loss": 0.7, "val_root_iou": 0.4},
    ]
    path = plot_curves(history, tmp_path / "sub" / "curves.png", ("background", "root"))
    picture, _ = read_image(path)
    assert picture.shape[:2] == (400, 1000)
