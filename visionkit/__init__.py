"""visionkit: the vision layer between petri-dish images and a lab robot.

It reads plate images from any camera source, segments roots, shoots and
seeds, finds each plant's primary-root tip, says how certain it is, and hands
the result to any output adapter. Plugins extend every one of those steps::

    from visionkit import hookimpl

Heavy dependencies (torch, mlflow) are imported only when a function needs
them, so ``import visionkit`` stays fast.
"""

from __future__ import annotations

from visionkit.calibration import Calibration
from visionkit.exceptions import VisionkitError
from visionkit.frame import Frame
from visionkit.hookspecs import hookimpl
from visionkit.plugins import get_plugin_manager, open_source
from visionkit.prediction import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint
from visionkit.version import __version__

__all__ = [
    "Calibration",
    "DishInfo",
    "Frame",
    "Keypoint",
    "ModelInfo",
    "Plant",
    "Prediction",
    "RobotPoint",
    "VisionkitError",
    "__version__",
    "get_plugin_manager",
    "hookimpl",
    "open_source",
]
