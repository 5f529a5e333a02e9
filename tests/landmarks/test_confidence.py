"""The confidence factors: each in [0, 1] and rising with how sure we are."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.landmarks.confidence import (
    agreement_factors,
    ahead_factor,
    mean_along,
    start_confidence,
    tip_confidence,
)

PATH = np.stack([np.full(101, 50.0), np.arange(100.0, 201.0)], axis=1)  # (50,100) -> (50,200)


def _root(tip_value=0.9):
    root = np.zeros((300, 100), np.float32)
    root[100:201, 49:52] = 0.9
    root[190:201, 49:52] = tip_value
    return root


def test_mean_along_reads_only_the_stretch_asked_for():
    root = _root(tip_value=0.5)

    assert mean_along(root, PATH, 10, from_end=True) == pytest.approx(0.5, abs=0.04)
    assert mean_along(root, PATH, 10, from_end=False) == pytest.approx(0.9)
    assert mean_along(root, PATH[:0], 10, from_end=True) == 0.0


def test_a_fainter_tip_is_less_confident():
    clear, _ = tip_confidence(_root(0.9), PATH, px_per_mm=10, best_score=100, rival_score=0)
    faint, parts = tip_confidence(_root(0.55), PATH, px_per_mm=10, best_score=100, rival_score=0)

    assert faint < clear
    assert parts["tip_prob"] == pytest.approx(0.55, abs=0.05)


def test_a_close_rival_makes_the_tip_uncertain():
    root = _root()
    alone, _ = tip_confidence(root, PATH, px_per_mm=10, best_score=100, rival_score=0)
    close, parts = tip_confidence(root, PATH, px_per_mm=10, best_score=100, rival_score=90)

    assert close < alone
    assert parts["tip_decisive"] == pytest.approx(0.1)
    _, nothing = tip_confidence(root, PATH, px_per_mm=10, best_score=0, rival_score=0)
    assert nothing["tip_decisive"] == 0.0


def test_agreement_multiplies_in_when_given():
    root = _root()
    value, parts = tip_confidence(
        root, PATH, px_per_mm=10, best_score=1, rival_score=0, agreement=0.5
    )

    assert parts["tip_agreement"] == 0.5
    assert value == pytest.approx(parts["tip_prob"] * 0.5)


def test_agreement_factors_follow_the_spread_in_millimetres():
    tips = [(100.0, 100.0), None, (300.0, 100.0), (500.0, 100.0)]
    points = [(100.0, 110.0), (100.0, 90.0), (300.0, 100.0), (900.0, 900.0)]

    factors = agreement_factors(tips, points, px_per_mm=10)

    assert factors[0] == pytest.approx(np.exp(-0.5))  # 1 mm spread
    assert factors[1] == 0.0
    assert factors[2] == pytest.approx(1.0)
    assert factors[3] == 0.0  # nothing near it
    assert agreement_factors([None], points, px_per_mm=10) == [0.0]


def test_a_start_away_from_the_seedling_is_less_confident():
    root = _root()
    shoot = np.zeros_like(root)
    shoot[85:99, 45:56] = 0.95

    near, parts = start_confidence(
        root, shoot, PATH, (50.0, 99.0), px_per_mm=10, search_radius_px=30
    )
    far, far_parts = start_confidence(
        root, shoot, PATH, (50.0, 80.0), px_per_mm=10, search_radius_px=30
    )

    assert parts == pytest.approx({"start_root": 0.9, "start_shoot": 0.95, "start_near": 1.0})
    assert far_parts["start_near"] < 0.5
    assert far < near
    lonely, lonely_parts = start_confidence(
        root, np.zeros_like(root), PATH, (50.0, 99.0), px_per_mm=10, search_radius_px=30
    )
    assert lonely == 0.0
    assert lonely_parts["start_shoot"] == 0.0


def _vertical_root(top: int, bottom: int, *, shape: tuple[int, int] = (200, 60)) -> np.ndarray:
    prob = np.zeros(shape, np.float32)
    prob[top:bottom, 29:32] = 0.95
    return prob


def test_root_going_on_after_a_gap_lowers_tip_ahead_and_a_clean_end_does_not() -> None:
    ppm = 10.0
    path = np.stack([np.full(60, 30.0), np.arange(20, 80, dtype=np.float64)], axis=1)
    clean = _vertical_root(20, 80)
    assert ahead_factor(clean, path, ppm) == pytest.approx(1.0)
    # the root fades for 2 mm below the tip and comes back: the tip may be cut short
    gapped = clean.copy()
    gapped[100:160, 29:32] = 0.6
    assert ahead_factor(gapped, path, ppm) == pytest.approx(0.4, abs=1e-6)
    # root beside the course, 2.7 mm to the side, is outside the 20-degree cone
    beside = clean.copy()
    beside[100:160, 0:3] = 0.9
    assert ahead_factor(beside, path, ppm) == pytest.approx(1.0)
    # a tip at the image's edge, or a one-point path, has nothing ahead to judge
    assert ahead_factor(_vertical_root(20, 200), path[:1], ppm) == 1.0
