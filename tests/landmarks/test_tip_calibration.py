"""Fitting how strong each doubt about a tip is: known strengths come back, doubts only lower."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from visionkit.exceptions import ModelError
from visionkit.landmarks.tip_calibration import (
    TipCalibration,
    TipSample,
    fit_tip_calibration,
)
from visionkit.modelfolder import ModelConfig


def _drawn(n: int, intercept: float, weights: dict[str, float], seed: int = 0) -> list[TipSample]:
    """Tips whose chance of being right follows a known calibration exactly."""
    rng = np.random.default_rng(seed)
    truth = TipCalibration(intercept, weights)
    samples = []
    for _ in range(n):
        factors = {name: float(rng.uniform(0.1, 1.0)) for name in weights}
        factors["tip_never_doubted"] = 1.0
        samples.append(TipSample(factors, bool(rng.random() < truth.apply(factors))))
    return samples


def test_the_fit_recovers_known_strengths() -> None:
    samples = _drawn(4000, 3.0, {"tip_size": 2.0, "tip_count": 0.3})
    fitted = fit_tip_calibration(samples)
    assert fitted.intercept == pytest.approx(3.0, abs=0.4)
    assert fitted.weights["tip_size"] == pytest.approx(2.0, abs=0.3)
    assert fitted.weights["tip_count"] == pytest.approx(0.3, abs=0.3)
    # a doubt that never occurs keeps its designed strength, for lack of evidence
    assert fitted.weights["tip_never_doubted"] == pytest.approx(1.0)
    on = fitted.fitted_on
    assert on["tips"] == 4000
    assert on["tips_off"] == sum(not s.within for s in samples)


def test_a_factor_that_goes_with_right_tips_cannot_raise_confidence() -> None:
    rng = np.random.default_rng(1)
    samples = []
    for _ in range(400):
        f = float(rng.uniform(0.1, 1.0))
        # lower factor, *more* often right: the fit may ignore it, never invert it
        samples.append(TipSample({"tip_odd": f}, bool(rng.random() < 1.0 - 0.5 * f)))
    fitted = fit_tip_calibration(samples)
    assert fitted.weights["tip_odd"] == 0.0
    assert fitted.apply({"tip_odd": 0.1}) == pytest.approx(fitted.apply({"tip_odd": 1.0}))


def test_calibrated_confidence_falls_with_every_doubt() -> None:
    calib = TipCalibration(4.0, {"tip_size": 1.5, "tip_prob": 1.0})
    sure = calib.apply({"tip_size": 1.0, "tip_prob": 1.0})
    assert sure == pytest.approx(1.0 / (1.0 + math.exp(-4.0)))
    assert calib.apply({"tip_size": 0.5, "tip_prob": 1.0}) < sure
    assert calib.apply({"tip_size": 0.5, "tip_prob": 0.5}) < calib.apply({"tip_size": 0.5})
    # a factor of 0 (or NaN) is floored, not an error
    assert 0.0 < calib.apply({"tip_size": 0.0, "tip_prob": float("nan")}) < 0.01


def test_too_few_or_one_sided_tips_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="at least 20 tips"):
        fit_tip_calibration([TipSample({"tip_prob": 0.9}, True)] * 5)
    with pytest.raises(ValueError, match="both within and beyond"):
        fit_tip_calibration([TipSample({"tip_prob": 0.9}, True)] * 30)


def test_the_config_keeps_a_valid_calibration_and_names_a_broken_one() -> None:
    calib = TipCalibration(2.5, {"tip_size": 1.2}, {"tips": 300})
    config = ModelConfig("unet-small", tip_calibration=calib.to_dict())
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert TipCalibration.from_dict(again.tip_calibration) == calib
    with pytest.raises(ModelError, match="must be a finite number >= 0"):
        ModelConfig.from_dict(
            {
                "architecture": "unet-small",
                "tip_calibration": {"intercept": 1, "weights": {"tip_size": -1}},
            }
        )
    with pytest.raises(ModelError, match="needs 'intercept'"):
        ModelConfig.from_dict({"architecture": "unet-small", "tip_calibration": {"weights": {}}})


@pytest.mark.parametrize("risk", [0.0, 0.02, 0.1])
def test_a_risk_lowers_the_intercept_until_few_confident_tips_are_off(risk: float) -> None:
    samples = _drawn(1500, 1.5, {"tip_size": 1.0, "tip_prob": 2.0}, seed=3)
    plain = fit_tip_calibration(samples)
    fitted = fit_tip_calibration(samples, risk=risk)
    assert fitted.weights == plain.weights  # the ranking is the fit's; only the level moves
    shift = fitted.fitted_on["intercept_shift"]
    assert shift <= 0.0
    assert fitted.intercept == pytest.approx(plain.intercept + shift)
    sure = [s for s in samples if fitted.apply(s.factors) >= 0.8]
    off = sum(not s.within for s in sure)
    assert off <= risk * len(sure)
    assert fitted.fitted_on["calibrated"]["confident_off"] == off
    assert len(sure) > 0  # there are tips sure enough even at no risk at all
    # a risk the plain fit already meets moves nothing
    assert fit_tip_calibration(samples, risk=0.99).fitted_on["intercept_shift"] == 0.0


def test_a_risk_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="share in"):
        fit_tip_calibration(_drawn(100, 1.0, {"tip_size": 1.0}), risk=1.0)
