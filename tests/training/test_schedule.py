"""Learning-rate schedules: shapes a user would plot."""

from __future__ import annotations

import itertools

import pytest
import torch

from visionkit.training.schedule import build_scheduler, lr_factor


def test_cosine_falls_from_one_to_the_floor() -> None:
    values = [lr_factor("cosine", s, 100) for s in range(101)]
    assert values[0] == pytest.approx(1.0)
    assert values[-1] == pytest.approx(0.01)
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_onecycle_warms_up_then_anneals() -> None:
    values = [lr_factor("onecycle", s, 100) for s in range(101)]
    assert values[0] == pytest.approx(0.04)
    assert max(values) == pytest.approx(1.0)
    assert values.index(max(values)) == 30
    assert values[-1] < 0.001


def test_constant_is_flat() -> None:
    assert {lr_factor("constant", s, 10) for s in range(11)} == {1.0}


def test_scheduler_steps_the_optimiser_and_refuses_unknown_names() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = build_scheduler(optimizer, "cosine", 10)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    assert "lr_lambdas" in scheduler.state_dict()
    with pytest.raises(ValueError, match="valid schedules are: cosine, onecycle, constant"):
        build_scheduler(optimizer, "step", 10)


def test_a_callable_horizon_is_read_at_every_step() -> None:
    """A time-limited run shortens its plan mid-way; the curve follows at once."""
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    horizon = [100]
    scheduler = build_scheduler(optimizer, "cosine", lambda: horizon[0])
    for _ in range(50):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(lr_factor("cosine", 50, 100))
    horizon[0] = 50
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
