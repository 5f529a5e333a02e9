"""Per-class segmentation scores from one confusion matrix.

Pixels are counted once into a ``(classes x classes)`` matrix (rows: truth,
columns: prediction); IoU, F1 (= Dice), precision and recall of every class
follow from it. Accumulating counts, never averaging per-patch scores, makes
the result independent of how an image was cut into patches, so training's
per-epoch validation and a full-image evaluation give comparable numbers.

A class that is neither present nor predicted has no defined score: it is
``nan`` (not 0 or 1), and means skip ``nan``.

numpy only: nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ConfusionMatrix"]


class ConfusionMatrix:
    """Pixel counts of (true class, predicted class), accumulated over many images.

    Args:
        n_classes: number of classes; labels are ``0 .. n_classes - 1``.
        ignore_index: a true label whose pixels are not counted (e.g. padding).

    Example::

        cm = ConfusionMatrix(5)
        cm.update(prediction, labels)          # integer arrays of one shape
        cm.summary(("background", "root", ...))["root_iou"]
    """

    def __init__(self, n_classes: int, *, ignore_index: int | None = None) -> None:
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        self.n_classes = int(n_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)

    def update(self, prediction: object, target: object) -> None:
        """Count the pixels of one prediction against its labels.

        Args:
            prediction: predicted labels (any integer array-like, e.g. a CPU tensor).
            target: true labels of the same shape.

        Raises:
            ValueError: the shapes differ or a label is outside ``0 .. n_classes - 1``.
        """
        pred = np.asarray(prediction).astype(np.int64, copy=False).ravel()
        true = np.asarray(target).astype(np.int64, copy=False).ravel()
        if pred.shape != true.shape:
            raise ValueError(
                f"prediction has {pred.size} pixels but target has {true.size}; "
                "pass arrays of the same shape"
            )
        if self.ignore_index is not None:
            keep = true != self.ignore_index
            pred, true = pred[keep], true[keep]
        n = self.n_classes
        if pred.size and (min(pred.min(), true.min()) < 0 or max(pred.max(), true.max()) >= n):
            raise ValueError(f"labels must lie in 0..{n - 1} for a {n}-class confusion matrix")
        self.matrix += np.bincount(true * n + pred, minlength=n * n).reshape(n, n)

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Add another matrix's counts to this one (e.g. from another worker)."""
        if other.n_classes != self.n_classes:
            raise ValueError(f"cannot merge {other.n_classes} classes into {self.n_classes}")
        self.matrix += other.matrix
        return self

    def reset(self) -> None:
        """Forget every count."""
        self.matrix[:] = 0

    @property
    def total(self) -> int:
        """Pixels counted."""
        return int(self.matrix.sum())

    def _ratio(self, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        out = np.full(self.n_classes, np.nan)
        np.divide(numerator, denominator, out=out, where=denominator > 0)
        return out

    @property
    def _tp(self) -> np.ndarray:
        return np.diag(self.matrix).astype(np.float64)

    def iou(self) -> np.ndarray:
        """Per class: TP / (TP + FP + FN)."""
        return self._ratio(self._tp, self.matrix.sum(0) + self.matrix.sum(1) - self._tp)

    def f1(self) -> np.ndarray:
        """Per class: 2 TP / (2 TP + FP + FN), the Dice coefficient."""
        return self._ratio(2 * self._tp, self.matrix.sum(0) + self.matrix.sum(1))

    def precision(self) -> np.ndarray:
        """Per class: TP / (TP + FP), how much of what was predicted is right."""
        return self._ratio(self._tp, self.matrix.sum(0).astype(np.float64))

    def recall(self) -> np.ndarray:
        """Per class: TP / (TP + FN), how much of the truth was found."""
        return self._ratio(self._tp, self.matrix.sum(1).astype(np.float64))

    def accuracy(self) -> float:
        """Share of pixels labelled right (``nan`` before any update)."""
        return float(self._tp.sum() / self.total) if self.total else float("nan")

    def summary(self, class_names: Sequence[str], *, prefix: str = "") -> dict[str, float]:
        """Every score as a flat dict, e.g. ``{"root_iou": 0.61, "mean_iou": 0.55, ...}``.

        ``mean_iou`` and ``mean_f1`` average the classes other than index 0
        (background) that have a score.
        """
        if len(class_names) != self.n_classes:
            raise ValueError(f"need {self.n_classes} class names, got {list(class_names)}")
        scores = {
            "iou": self.iou(),
            "f1": self.f1(),
            "precision": self.precision(),
            "recall": self.recall(),
        }
        out: dict[str, float] = {}
        for name, values in scores.items():
            for cls, value in zip(class_names, values, strict=True):
                out[f"{prefix}{cls}_{name}"] = float(value)
        for name in ("iou", "f1"):
            foreground = scores[name][1:]
            defined = foreground[~np.isnan(foreground)]
            out[f"{prefix}mean_{name}"] = float(defined.mean()) if defined.size else float("nan")
        out[f"{prefix}accuracy"] = self.accuracy()
        return out
