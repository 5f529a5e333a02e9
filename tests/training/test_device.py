"""Device choice and determinism switches."""

from __future__ import annotations

import pytest
import torch

from visionkit.exceptions import ModelError
from visionkit.training.device import deterministic, resolve_device, use_amp
from visionkit.training.early_stopping import is_improvement


def test_auto_and_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_says_what_to_use() -> None:
    with pytest.raises(ModelError, match="--device auto or --device cpu"):
        resolve_device("cuda")


def test_unknown_device() -> None:
    with pytest.raises(ModelError, match="use auto, cpu or cuda"):
        resolve_device("tpu")


def test_mixed_precision_only_on_cuda() -> None:
    assert not use_amp(torch.device("cpu"), True)
    assert use_amp(torch.device("cuda"), True)
    assert not use_amp(torch.device("cuda"), False)


def test_deterministic_seeds_and_restores() -> None:
    before = torch.are_deterministic_algorithms_enabled()
    with deterministic(5):
        assert torch.are_deterministic_algorithms_enabled()
        first = torch.rand(3)
    with deterministic(5):
        second = torch.rand(3)
    assert torch.equal(first, second)
    assert torch.are_deterministic_algorithms_enabled() == before


@pytest.mark.parametrize(
    ("value", "best", "higher", "expected"),
    [
        (0.1, None, True, True),
        (float("nan"), None, True, True),
        (0.5, 0.4, True, True),
        (0.4, 0.4, True, False),
        (0.3, 0.4, False, True),
        (0.5, 0.4, False, False),
        (float("nan"), 0.4, True, False),
        (0.0, float("nan"), True, True),
    ],
)
def test_what_counts_as_better(
    value: float, best: float | None, higher: bool, expected: bool
) -> None:
    assert is_improvement(value, best, higher_is_better=higher) is expected


def test_not_deterministic_only_seeds_and_lets_cudnn_benchmark() -> None:
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark)
    with deterministic(5, enabled=False):
        assert not torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.benchmark
        first = torch.rand(3)
    with deterministic(5, enabled=False):
        assert torch.equal(torch.rand(3), first)  # still seeded
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark) == before
