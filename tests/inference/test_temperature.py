"""Temperature scaling makes over-confident probabilities honest."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.inference.temperature import (
    MAX_FIT_SAMPLES,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def _overconfident(
    n: int = 20000, classes: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a calibrated model (T = 1) multiplied by 3: the classic over-confidence."""
    rng = np.random.default_rng(seed)
    calibrated = rng.normal(0.0, 1.5, size=(n, classes))
    labels = np.array([rng.choice(classes, p=p) for p in softmax(calibrated, axis=1)])
    return calibrated * 3.0, labels


def test_fitted_temperature_undoes_overconfidence_and_lowers_ece() -> None:
    logits, labels = _overconfident()
    temperature = fit_temperature(logits, labels)
    assert temperature == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(softmax(logits, axis=1), labels)
    after = expected_calibration_error(softmax(logits, axis=1, temperature=temperature), labels)
    assert before > 0.1
    assert after < before / 3
    assert after < 0.03


def test_segmentation_shaped_logits_are_accepted() -> None:
    logits, labels = _overconfident(n=32 * 32 * 2, classes=3, seed=1)
    maps = logits.reshape(2, 32, 32, 3).transpose(0, 3, 1, 2)
    label_maps = labels.reshape(2, 32, 32)
    assert fit_temperature(maps, label_maps) == pytest.approx(fit_temperature(logits, labels))
    one = fit_temperature(maps[0], label_maps[0])
    assert 1.5 < one < 6.0


def test_a_calibrated_model_keeps_a_temperature_near_one() -> None:
    logits, labels = _overconfident()
    assert fit_temperature(logits / 3.0, labels) == pytest.approx(1.0, abs=0.15)


def test_huge_inputs_are_subsampled(monkeypatch: pytest.MonkeyPatch) -> None:
    import visionkit.inference.temperature as module

    monkeypatch.setattr(module, "MAX_FIT_SAMPLES", 5000)
    logits, labels = _overconfident(n=20000)
    assert fit_temperature(logits, labels) == pytest.approx(3.0, rel=0.25)
    assert MAX_FIT_SAMPLES >= 1_000_000


@pytest.mark.parametrize(
    ("logits", "labels", "match"),
    [
        (np.zeros((4, 3)), np.zeros(5), "labels for"),
        (np.zeros((4, 3)), np.array([0, 1, 2, 3]), r"\[0, 2\]"),
        (np.zeros(4), np.zeros(4), "shape"),
        (np.zeros((0, 3)), np.zeros(0), "at least one"),
    ],
)
def test_bad_input_is_refused(logits: np.ndarray, labels: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_temperature(logits, labels)


def test_softmax_refuses_a_bad_temperature() -> None:
    with pytest.raises(ValueError, match="temperature"):
        softmax(np.zeros((3, 2)), temperature=0.0)


def test_ece_of_a_perfect_model_is_zero() -> None:
    probs = np.eye(3)[[0, 1, 2, 1]]
    assert expected_calibration_error(probs, np.array([0, 1, 2, 1])) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.array([1, 2, 0, 0])) == pytest.approx(1.0)
