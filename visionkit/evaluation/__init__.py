"""Evaluate a model on full labelled plates, the way a robot would use it.

- :mod:`~visionkit.evaluation.evaluate`: :func:`evaluate`, the orchestration.
- :mod:`~visionkit.evaluation.matching`: predicted plants <-> true plants.
- :mod:`~visionkit.evaluation.landmark_metrics`: tip and start errors, the
  share within 1 mm, root-length sMAPE, confidence against accuracy.
- :mod:`~visionkit.evaluation.calibration_metrics`: reliability bins and the
  expected calibration error of pixel probabilities.
- :mod:`~visionkit.evaluation.report`: :class:`EvaluationReport` and the targets.
- :mod:`~visionkit.evaluation.plots`: the report's pictures.

Segmentation scores come from :class:`visionkit.training.metrics.ConfusionMatrix`,
so validation during training and evaluation count pixels the same way.
Importing this package loads numpy only; torch, OpenCV, matplotlib and
MLflow are imported when an evaluation runs.
"""

from __future__ import annotations

from visionkit.evaluation.calibration_metrics import (
    ReliabilityAccumulator,
    ReliabilityDiagram,
    expected_calibration_error,
)
from visionkit.evaluation.evaluate import evaluate
from visionkit.evaluation.landmark_metrics import (
    LandmarkSummary,
    PlantError,
    plant_errors,
    smape,
    summarize_landmarks,
)
from visionkit.evaluation.matching import Matching, PlantMatch, PlantPoints, match_plants
from visionkit.evaluation.report import TARGETS, EvaluationReport, Target, check_targets

__all__ = [
    "TARGETS",
    "EvaluationReport",
    "LandmarkSummary",
    "Matching",
    "PlantError",
    "PlantMatch",
    "PlantPoints",
    "ReliabilityAccumulator",
    "ReliabilityDiagram",
    "Target",
    "check_targets",
    "evaluate",
    "expected_calibration_error",
    "match_plants",
    "plant_errors",
    "smape",
    "summarize_landmarks",
]
