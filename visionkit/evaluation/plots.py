"""Pictures of an evaluation: per-class scores, reliability diagram, tip errors.

Each function writes one PNG with matplotlib's object API and the Agg
canvas, so nothing touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_per_class", "plot_reliability", "plot_tip_errors"]

_SCORES = ("iou", "f1", "precision", "recall")


def _save(figure: Any, path: str | os.PathLike[str]) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.tight_layout()
    figure.savefig(file)
    return file


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def plot_per_class(
    scores: Mapping[str, float | None],
    classes: Sequence[str],
    path: str | os.PathLike[str],
    *,
    target: float | None = 0.90,
) -> Path:
    """Grouped bars of IoU, F1, precision and recall per class (background left out).

    Args:
        scores: flat scores such as ``{"root_f1": 0.91, ...}``.
        classes: class names, background first.
        path: the PNG to write.
        target: draw the F1 target as a dashed line (``None`` for none).
    """
    from matplotlib.figure import Figure

    names = [c for c in classes if c != "background"]
    figure = Figure(figsize=(max(5.0, 1.6 * len(names) + 2), 4), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    width = 0.8 / len(_SCORES)
    for k, score in enumerate(_SCORES):
        values = [_number(scores.get(f"{name}_{score}")) for name in names]
        positions = [i + (k - (len(_SCORES) - 1) / 2) * width for i in range(len(names))]
        axes.bar(positions, [0.0 if math.isnan(v) else v for v in values], width, label=score)
    if target is not None:
        axes.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target}")
    axes.set_xticks(range(len(names)))
    axes.set_xticklabels(names)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score (all pixels of all plates)")
    axes.set_title("segmentation per class")
    axes.legend(loc="lower right", fontsize="small")
    return _save(figure, path)


def plot_reliability(
    diagram: Mapping[str, Any], path: str | os.PathLike[str], *, label: str = "root"
) -> Path:
    """Reliability diagram: observed frequency against mean confidence per bin.

    Args:
        diagram: a :meth:`ReliabilityDiagram.to_dict` (``edges``, ``counts``,
            ``confidence``, ``frequency``, ``ece``).
        path: the PNG to write.
        label: the class scored, for the title.
    """
    from matplotlib.figure import Figure

    edges = [float(e) for e in diagram["edges"]]
    counts = [float(c) for c in diagram["counts"]]
    frequency = [_number(f) for f in diagram["frequency"]]
    confidence = [_number(c) for c in diagram["confidence"]]
    lefts = edges[:-1]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    figure = Figure(figsize=(5, 6), dpi=100)
    top = figure.add_subplot(2, 1, 1)
    bottom = figure.add_subplot(2, 1, 2)
    shown = [0.0 if math.isnan(f) else f for f in frequency]
    top.bar(lefts, shown, widths, align="edge", edgecolor="black", label="observed")
    top.scatter(
        [c for c in confidence if not math.isnan(c)],
        [f for f, c in zip(frequency, confidence, strict=True) if not math.isnan(c)],
        color="tab:red",
        zorder=3,
        label="mean confidence",
    )
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    ece = diagram.get("ece")
    ece_text = "n/a" if ece is None else f"{float(ece):.4f}"
    top.set_title(f"{label} probability calibration (ECE {ece_text})")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel(f"share truly {label}")
    top.legend(loc="upper left", fontsize="small")
    bottom.bar(lefts, [max(c, 1e-9) for c in counts], widths, align="edge", edgecolor="black")
    bottom.set_yscale("log")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel(f"predicted {label} probability")
    bottom.set_ylabel("pixels")
    return _save(figure, path)


def plot_tip_errors(
    errors_mm: Sequence[float],
    path: str | os.PathLike[str],
    *,
    tolerance_mm: float = 1.0,
    unit: str = "mm",
) -> Path:
    """Histogram of tip errors with the robot's tolerance marked.

    Args:
        errors_mm: one error per plant with a predicted tip.
        path: the PNG to write.
        tolerance_mm: drawn as a vertical line.
        unit: the errors' unit (``"px"`` when no scale was known).
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    values = [float(v) for v in errors_mm if v is not None and math.isfinite(v)]
    if values:
        top = max(max(values), tolerance_mm * 2)
        axes.hist(values, bins=min(40, max(5, len(values))), range=(0, top), edgecolor="black")
        within = sum(v <= tolerance_mm for v in values) / len(values)
        title = f"tip error ({len(values)} tips, {100 * within:.0f} % within {tolerance_mm} {unit})"
    else:
        title = "tip error (no tips matched)"
    axes.axvline(tolerance_mm, color="tab:red", linestyle="--", label=f"{tolerance_mm} {unit}")
    axes.set_xlabel(f"distance to the true tip ({unit})")
    axes.set_ylabel("plants")
    axes.set_title(title)
    axes.legend()
    return _save(figure, path)
