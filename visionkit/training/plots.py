"""Pictures of a run: training curves and validation overlays.

Both are written as PNG files into the run's folder and logged to MLflow.
matplotlib is used through its object API with the Agg canvas, so nothing
touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["overlay_patch", "plot_curves"]

#: Predicted root pixels.
PREDICTED = (230, 40, 40)
#: True root pixels the prediction missed.
MISSED = (40, 200, 60)


def plot_curves(
    history: Sequence[Mapping[str, float]],
    path: str | os.PathLike[str],
    classes: Sequence[str],
) -> Path:
    """Loss (train and validation) and validation IoU per class against epoch.

    Args:
        history: one dict of metrics per epoch, with ``epoch`` (1-based).
        path: the PNG to write.
        classes: class names; background is left out of the IoU panel.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    loss_ax, iou_ax = figure.subplots(1, 2)
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        loss_ax.plot(epochs, [row.get(key, math.nan) for row in history], marker="o", label=label)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    loss_ax.legend()
    for cls in classes[1:]:
        values = [row.get(f"val_{cls}_iou", math.nan) for row in history]
        iou_ax.plot(epochs, values, marker="o", label=cls)
    iou_ax.set(xlabel="epoch", ylabel="IoU", title="Validation IoU", ylim=(0, 1))
    iou_ax.legend()
    figure.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    return out


def overlay_patch(
    image: np.ndarray, prediction: np.ndarray, labels: np.ndarray, label: int
) -> np.ndarray:
    """An RGB ``uint8`` picture of a grey patch with the class ``label`` coloured.

    Predicted pixels are red; true pixels the prediction missed are green;
    the rest is the grey image.

    Args:
        image: the grey patch, ``float`` in [0, 1] or ``uint8``.
        prediction: predicted label map of the same shape.
        labels: true label map of the same shape.
        label: the class to show (e.g. root's index).
    """
    grey = np.asarray(image, dtype=np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    if grey.max(initial=0.0) > 1.0:
        grey = grey / 255.0
    rgb = np.repeat((np.clip(grey, 0.0, 1.0) * 255).astype(np.uint8)[..., None], 3, axis=2)
    predicted = prediction == label
    missed = (labels == label) & ~predicted
    rgb[predicted] = PREDICTED
    rgb[missed] = MISSED
    return rgb
