"""Learning-rate schedules, stepped once per optimiser step.

The factor multiplying the peak learning rate depends only on
``(step, total_steps)``, so a resumed run continues on the same curve; a run
resumed with more epochs follows the longer run's curve from where it is.

- ``constant``: 1 throughout.
- ``cosine``: from 1 down to 0.01 along half a cosine.
- ``onecycle``: up from 0.04 to 1 over the first 30 % of steps, then down
  along a cosine to about 0 (super-convergence style).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from visionkit.training.config import SCHEDULES

__all__ = ["build_scheduler", "lr_factor"]

_FLOOR = 0.01
_WARMUP = 0.3
_START = 0.04


def lr_factor(name: str, step: int, total_steps: int) -> float:
    """The learning-rate factor of ``step`` (0-based) out of ``total_steps``.

    Raises:
        ValueError: ``name`` is not a known schedule (lists the valid ones).
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; valid schedules are: {', '.join(SCHEDULES)}")
    if name == "constant":
        return 1.0
    t = min(max(step / max(total_steps, 1), 0.0), 1.0)
    if name == "cosine":
        return _FLOOR + (1.0 - _FLOOR) * 0.5 * (1.0 + math.cos(math.pi * t))
    if t < _WARMUP:
        rise = 0.5 * (1.0 - math.cos(math.pi * t / _WARMUP))
        return _START + (1.0 - _START) * rise
    fall = (t - _WARMUP) / (1.0 - _WARMUP)
    return 1e-4 + (1.0 - 1e-4) * 0.5 * (1.0 + math.cos(math.pi * fall))


def build_scheduler(
    optimizer: torch.optim.Optimizer, name: str, total_steps: int | Callable[[], int]
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step :class:`~torch.optim.lr_scheduler.LambdaLR` for schedule ``name``.

    The factor is a closure, not an object, so the scheduler's saved state
    holds only the step count and a resumed run uses ``total_steps`` of its
    own (possibly longer) config. ``total_steps`` may be a callable, read at
    every step, for a run that re-plans its length as it goes (a time limit).
    """
    if callable(total_steps):
        horizon = total_steps
    else:
        fixed = int(total_steps)

        def horizon() -> int:
            return fixed

    lr_factor(name, 0, horizon())  # fail now, naming the valid schedules

    def factor(step: int) -> float:
        return lr_factor(name, step, horizon())

    schedule: Callable[[int], float] = factor
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
