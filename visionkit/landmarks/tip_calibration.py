"""How strong each doubt about a tip is, fitted on validation plates.

A tip's raw confidence is the product of its factors
(:mod:`visionkit.landmarks.confidence`): each doubt multiplies in with the
strength chosen when it was designed. Whether ``tip_count = 0.85`` should
cost a tip 15 % or 50 % of its confidence, or nothing, is a question about
data: on plates where the true tips are known, which factors go with tips
more than 1 mm off?

:class:`TipCalibration` answers it with a logistic model over the factors'
logarithms,

    ``confidence = sigmoid(intercept + sum_k weight_k * log(factor_k))``,

so that the calibrated confidence reads as the chance that the tip lies
within 1 mm. A weight is the doubt's fitted strength: 1 keeps the designed
factor's shape, 0 ignores it, 2 squares it. Weights are kept at zero or
above, so a doubt can only ever lower a tip's confidence, never raise it.

:func:`fit_tip_calibration` fits it by penalised maximum likelihood: the
penalty pulls every weight towards 1, the designed strength, so a doubt that
(almost) never occurs on the fitting plates keeps the strength it was
designed with instead of being dropped for lack of evidence.

A calibrated probability of 0.8 means one tip in five off at that level. A
robot that acts on every tip at or above 0.8 may want fewer wrong ones than
that: with ``risk`` (``--tip-risk``), the intercept is then lowered, never
raised, until at most that share of the fitting plates' tips at or above
``confident`` are off. The confidences then read as "at least this sure",
not as calibrated chances, and the fit records the shift it made.

``visionkit evaluate --fit-tips`` runs it on held-out plates and writes the result into
the model's ``config.json`` (``tip_calibration``); the pipeline applies it to
every tip (:func:`visionkit.pipeline.Predictor`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FLOOR", "TipCalibration", "TipSample", "fit_tip_calibration"]

#: Factors are clipped to at least this before their logarithm (a factor of 0 stays finite).
FLOOR = 1e-3

#: The penalty on ``(weight - 1)²`` per weight, in units of one sample's log-likelihood.
PRIOR_STRENGTH = 2.0

#: No weight is fitted above this: a doubt cubed is already very strong.
MAX_WEIGHT = 4.0


@dataclass(frozen=True)
class TipSample:
    """One predicted tip on a validation plate: its factors and whether it was right.

    Attributes:
        factors: the tip's ``tip_*`` confidence factors, by name.
        within: the tip lies within the tolerance (1 mm) of its true tip; a
            predicted plant that matches no true plant is ``False``.
    """

    factors: Mapping[str, float]
    within: bool


def _features(factors: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """The log-factors in ``names``' order; a missing factor counts as 1 (no doubt)."""
    values = [float(factors.get(name, 1.0)) for name in names]
    clean = [v if math.isfinite(v) else 0.0 for v in values]
    return np.log(np.clip(np.asarray(clean, np.float64), FLOOR, 1.0))


def _sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


@dataclass(frozen=True)
class TipCalibration:
    """A fitted map from a tip's factors to the chance it lies within 1 mm.

    Attributes:
        intercept: the log-odds of a tip with no doubt at all (every factor 1).
        weights: per factor name, its fitted strength (>= 0). Factors not
            listed are ignored.
        fitted_on: what it was fitted on (plates, tips, tips off...), for the
            model card; not used to predict.
    """

    intercept: float
    weights: dict[str, float]
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not math.isfinite(self.intercept):
            raise ValueError(f"tip calibration: the intercept must be finite, not {self.intercept}")
        for name, weight in self.weights.items():
            if not (math.isfinite(weight) and weight >= 0.0):
                raise ValueError(
                    f"tip calibration: weight {name!r} must be a finite number >= 0, not {weight}"
                )

    def apply(self, factors: Mapping[str, float]) -> float:
        """The calibrated confidence of a tip with these factors, in (0, 1)."""
        names = list(self.weights)
        z = self.intercept + float(
            _features(factors, names) @ np.array(list(self.weights.values()))
        )
        return float(_sigmoid(z))

    def to_dict(self) -> dict[str, Any]:
        """The ``tip_calibration`` entry of a model's ``config.json``."""
        return {
            "intercept": round(self.intercept, 6),
            "weights": {k: round(v, 6) for k, v in self.weights.items()},
            "fitted_on": dict(self.fitted_on),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TipCalibration:
        """Read a ``tip_calibration`` entry; a malformed one is a :class:`ValueError`."""
        try:
            intercept = float(data["intercept"])
            weights = {str(k): float(v) for k, v in dict(data["weights"]).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"tip calibration: needs 'intercept' (a number) and 'weights' "
                f"(factor name -> number): {exc}"
            ) from exc
        return cls(intercept, weights, dict(data.get("fitted_on") or {}))


def fit_tip_calibration(
    samples: Sequence[TipSample],
    *,
    prior_strength: float = PRIOR_STRENGTH,
    confident: float = 0.8,
    risk: float | None = None,
) -> TipCalibration:
    """Fit :class:`TipCalibration` to validation tips (see the module docstring).

    Every ``tip_*`` factor seen in ``samples`` gets a weight. The fit
    minimises the tips' negative log-likelihood plus ``prior_strength *
    sum((weight - 1)²)``, weights bounded to ``[0, MAX_WEIGHT]``. With
    ``risk`` (a share in [0, 1)), the intercept is then lowered until at most
    that share of the tips at or above ``confident`` are off (see the module
    docstring).

    Raises:
        ValueError: fewer than 20 tips, or no tip off (or none right): the
            data cannot say how strong a doubt should be.
    """
    from scipy.optimize import minimize

    if len(samples) < 20:
        raise ValueError(f"fitting tip confidences needs at least 20 tips, got {len(samples)}")
    y = np.array([s.within for s in samples], np.float64)
    if y.min() == y.max():
        raise ValueError(
            f"fitting tip confidences needs tips both within and beyond 1 mm; "
            f"all {len(samples)} are {'within' if y[0] else 'beyond'}"
        )
    names = sorted({k for s in samples for k in s.factors if k.startswith("tip_")})
    x = np.stack([_features(s.factors, names) for s in samples]) if names else np.zeros((len(y), 0))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        # log(1 + e^z) - y z, stably
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        resid = _sigmoid(z) - y
        grad = np.concatenate([[resid.sum()], x.T @ resid])
        penalty = theta[1:] - 1.0
        grad[1:] += 2.0 * prior_strength * penalty
        return nll + prior_strength * float(penalty @ penalty), grad

    start = np.concatenate(
        [[math.log((y.mean() + 1e-3) / (1.0 - y.mean() + 1e-3))], np.ones(len(names))]
    )
    bounds = [(None, None)] + [(0.0, MAX_WEIGHT)] * len(names)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = result.x
    shift = 0.0 if risk is None else _risk_shift(theta[0] + x @ theta[1:], y, confident, risk)
    theta[0] += shift
    raw = np.exp(x.sum(axis=1))
    calibrated = _sigmoid(theta[0] + x @ theta[1:])
    summary = {
        "tips": len(samples),
        "tips_off": int((y == 0).sum()),
        "confident": confident,
        "risk": risk,
        "intercept_shift": round(shift, 6),
        "raw": _confident_summary(raw, y, confident),
        "calibrated": _confident_summary(calibrated, y, confident),
    }
    weights = {n: float(w) for n, w in zip(names, theta[1:], strict=True)}
    return TipCalibration(float(theta[0]), weights, summary)


def _risk_shift(z: np.ndarray, within: np.ndarray, confident: float, risk: float) -> float:
    """How far to lower the log-odds so at most ``risk`` of the confident tips are off (<= 0)."""
    if not 0.0 <= risk < 1.0:
        raise ValueError(f"the tip risk must be a share in [0, 1), not {risk}")
    order = np.argsort(-z, kind="stable")
    off = np.cumsum(within[order] == 0)
    count = np.arange(1, len(z) + 1)
    ok = np.nonzero(off <= risk * count)[0]
    # the most tips that can be confident: every tip down to the k-th score,
    # without splitting tied scores
    keep = -1
    for k in ok[::-1]:
        if k + 1 == len(z) or z[order[k + 1]] < z[order[k]]:
            keep = int(k)
            break
    logit = math.log(confident / (1.0 - confident))
    if keep == len(z) - 1:
        return 0.0
    # the (keep+1)-th tip and every one below it must fall under ``confident``
    below = float(z[order[keep + 1]])
    needed = logit - below - 1e-6
    return float(min(0.0, needed))


def _confident_summary(
    confidence: np.ndarray, within: np.ndarray, threshold: float
) -> dict[str, Any]:
    """How many tips are confident, and how many of those are off, on the fitting tips."""
    sure = confidence >= threshold
    return {
        "confident_tips": int(sure.sum()),
        "confident_off": int((sure & (within == 0)).sum()),
        "confident_right_share": round(float((sure & (within == 1)).sum()) / len(within), 4),
    }
