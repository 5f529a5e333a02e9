"""Pick the training device and what it supports (mixed precision, determinism).

``auto`` takes CUDA when torch sees a GPU and the CPU otherwise; asking for
``cuda`` on a machine without one is an error that says what to use instead,
never a silent fall-back to a run ten times slower than expected.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import torch

from visionkit.exceptions import ModelError

__all__ = ["deterministic", "resolve_device", "use_amp"]

logger = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """The torch device for ``auto``, ``cpu`` or ``cuda`` (``cuda:N`` works too).

    Raises:
        ModelError: CUDA was asked for but is not available, or the name is unknown.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"device {name!r} was requested but torch sees no CUDA GPU here "
                f"(torch {torch.__version__}); use --device auto or --device cpu"
            )
        return torch.device(name)
    raise ModelError(f"unknown device {name!r}; use auto, cpu or cuda")


def use_amp(device: torch.device, wanted: bool) -> bool:
    """Whether to train in mixed precision: only when wanted and on CUDA."""
    return wanted and device.type == "cuda"


@contextlib.contextmanager
def deterministic(seed: int, enabled: bool = True) -> Iterator[None]:
    """Seed torch and ask for deterministic kernels while the block runs.

    ``torch.use_deterministic_algorithms(True, warn_only=True)`` is set (an
    operation without a deterministic kernel warns instead of failing) and
    restored afterwards, as is the cuDNN benchmark flag. On CUDA,
    ``CUBLAS_WORKSPACE_CONFIG`` is set if unset, as cuBLAS requires. With
    ``enabled=False`` torch is only seeded, and cuDNN may benchmark and pick
    its fastest (not reproducible) kernels: a GPU run's choice.
    """
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    previous_benchmark = torch.backends.cudnn.benchmark
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.backends.cudnn.benchmark = not enabled
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)
        torch.backends.cudnn.benchmark = previous_benchmark
