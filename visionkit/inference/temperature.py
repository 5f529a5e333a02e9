"""Temperature scaling: make softmax probabilities mean what they say.

A segmentation network trained with cross-entropy is usually over-confident:
pixels it calls 99 % root are root far less often than 99 % of the time.
Dividing the logits by one number, the *temperature* ``T`` (> 1 softens,
< 1 sharpens), fixes most of that without changing any arg-max decision.
:func:`fit_temperature` finds the ``T`` that minimises the negative
log-likelihood on held-out labelled pixels; evaluation code stores it in
``ModelConfig.temperature`` and :func:`~visionkit.inference.segment.segment_image`
applies it before the softmax. :func:`expected_calibration_error` measures
the result: the mean gap between confidence and accuracy over confidence
bins (0 = perfectly calibrated).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "MAX_FIT_SAMPLES",
    "expected_calibration_error",
    "fit_temperature",
    "softmax",
]

#: Pixels beyond this many are subsampled (evenly, reproducibly) when fitting.
MAX_FIT_SAMPLES = 2_000_000

_T_BOUNDS = (0.05, 20.0)


def softmax(logits: np.ndarray, *, axis: int = 0, temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``logits / temperature`` along ``axis``, as a new float32 array.

    Works class plane by class plane (a segmentation map has few classes and
    many pixels), which is about three times faster than reducing along a
    strided axis.

    Raises:
        ValueError: ``temperature`` is not a positive finite number.
    """
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    out = np.array(logits, dtype=np.float32, copy=True)
    if temperature != 1.0:
        out *= np.float32(1.0 / temperature)
    index: list[Any] = [slice(None)] * out.ndim
    planes = []
    for c in range(out.shape[axis]):
        index[axis] = c
        planes.append(out[tuple(index)])
    peak = planes[0].copy()
    for plane in planes[1:]:
        np.maximum(peak, plane, out=peak)
    total = np.zeros_like(peak)
    for plane in planes:
        np.subtract(plane, peak, out=plane)
        np.exp(plane, out=plane)
        total += plane
    np.reciprocal(total, out=total)
    for plane in planes:
        plane *= total
    return out


def _as_samples(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ``(N, C)`` or ``(N, C, H, W)`` logits and their labels to ``(S, C)``, ``(S,)``."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    if logits.ndim == 4:
        logits = np.moveaxis(logits, 1, -1).reshape(-1, logits.shape[1])
    elif logits.ndim == 3:  # (C, H, W): one image
        logits = np.moveaxis(logits, 0, -1).reshape(-1, logits.shape[0])
    elif logits.ndim != 2:
        raise ValueError(
            f"logits must be (N, C), (C, H, W) or (N, C, H, W), got shape {logits.shape}"
        )
    labels = labels.reshape(-1).astype(np.int64)
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"{labels.shape[0]} labels for {logits.shape[0]} logit vectors; shapes must match"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in [0, {logits.shape[1] - 1}]")
    if labels.size > MAX_FIT_SAMPLES:
        keep = np.linspace(0, labels.size - 1, MAX_FIT_SAMPLES).astype(np.int64)
        logits, labels = logits[keep], labels[keep]
    return logits, labels


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = logits / temperature
    peak = scaled.max(axis=1, keepdims=True)
    log_norm = peak[:, 0] + np.log(np.exp(scaled - peak).sum(axis=1))
    picked = scaled[np.arange(labels.size), labels]
    return float(np.mean(log_norm - picked))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels``.

    Args:
        logits: raw network outputs, ``(N, C)``, ``(C, H, W)`` or ``(N, C, H, W)``.
        labels: the true class index of each logit vector (``(N,)``,
            ``(H, W)`` or ``(N, H, W)``).

    Returns:
        ``T`` in [0.05, 20]: store it in ``ModelConfig.temperature``.

    Raises:
        ValueError: shapes do not match, labels are out of range, or there
            are no samples.
    """
    from scipy.optimize import minimize_scalar

    flat_logits, flat_labels = _as_samples(logits, labels)
    if flat_labels.size == 0:
        raise ValueError("fit_temperature needs at least one labelled sample")
    low, high = (math.log(b) for b in _T_BOUNDS)
    found = minimize_scalar(
        lambda log_t: _nll(flat_logits, flat_labels, math.exp(log_t)),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(math.exp(found.x))


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, *, bins: int = 15
) -> float:
    """Expected calibration error of class probabilities against true labels.

    The top-class confidence of each sample is binned into ``bins`` equal
    bins; ECE is the sample-weighted mean of ``|accuracy - mean confidence|``
    over the bins.

    Args:
        probabilities: ``(N, C)``, ``(C, H, W)`` or ``(N, C, H, W)``, summing to 1
            over C.
        labels: the true class of each sample.
    """
    probs, flat_labels = _as_samples(probabilities, labels)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == flat_labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(total / max(flat_labels.size, 1))
