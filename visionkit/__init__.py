"""visionkit: the vision layer between petri-dish images and a lab robot.

It reads plate images from any camera source, segments roots, shoots and
seeds, finds each plant's primary-root tip, says how certain it is, and hands
the result to any output adapter. Plugins extend every one of those steps::

    from visionkit import hookimpl

Heavy dependencies (torch, mlflow) are imported only when a function needs
them, so ``import visionkit`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from visionkit.calibration import Calibration
from visionkit.exceptions import VisionkitError
from visionkit.frame import Frame
from visionkit.hookspecs import hookimpl
from visionkit.plugins import get_plugin_manager, open_source
from visionkit.prediction import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint
from visionkit.settings import PredictSettings, SegmentSettings
from visionkit.version import __version__

if TYPE_CHECKING:
    from visionkit.modelfolder import load_model
    from visionkit.pipeline import Pipeline, Predictor, predict

__all__ = [
    "Calibration",
    "DishInfo",
    "Frame",
    "Keypoint",
    "ModelInfo",
    "Pipeline",
    "Plant",
    "PredictSettings",
    "Prediction",
    "Predictor",
    "RobotPoint",
    "SegmentSettings",
    "VisionkitError",
    "__version__",
    "get_plugin_manager",
    "hookimpl",
    "load_model",
    "open_source",
    "predict",
]

#: Public names served lazily, so ``import visionkit`` never imports torch.
_LAZY = {
    "predict": "visionkit.pipeline",
    "Pipeline": "visionkit.pipeline",
    "Predictor": "visionkit.pipeline",
    "load_model": "visionkit.modelfolder",
}


def __getattr__(name: str) -> Any:
    """Import the prediction and model-loading API on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'visionkit' has no attribute {name!r}")
