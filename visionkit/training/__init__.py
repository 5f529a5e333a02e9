"""Train segmentation models on Hades-convention data, resumably and tracked.

- :mod:`~visionkit.training.config`: :class:`TrainConfig`, every setting of a run.
- :mod:`~visionkit.training.loop`: :func:`train`, the loop itself.
- :mod:`~visionkit.training.data`: torch datasets over :mod:`visionkit.data`.
- :mod:`~visionkit.training.losses`: weighted cross-entropy + soft Dice.
- :mod:`~visionkit.training.metrics`: :class:`ConfusionMatrix`, per-class
  IoU/F1/precision/recall (shared with evaluation).
- :mod:`~visionkit.training.checkpoint`: atomic checkpoints, read without unpickling.
- :mod:`~visionkit.training.device`: device choice, mixed precision, determinism.

Importing this package imports torch; the ``visionkit train`` command imports
it only when it runs.
"""

from __future__ import annotations

from visionkit.training.config import TrainConfig
from visionkit.training.loop import StepInfo, TrainResult, train
from visionkit.training.metrics import ConfusionMatrix

__all__ = ["ConfusionMatrix", "StepInfo", "TrainConfig", "TrainResult", "train"]
