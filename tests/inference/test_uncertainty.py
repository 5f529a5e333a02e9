"""Per-pixel uncertainty, per-class confidence and the TTA passes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.inference.tta import flip, flips_for, unflip
from visionkit.inference.uncertainty import (
    channel_argmax,
    class_confidence,
    combine_uncertainty,
    predictive_entropy,
)


def test_entropy_is_zero_when_certain_and_one_when_uniform() -> None:
    probs = np.zeros((4, 1, 3), np.float32)
    probs[0, 0, 0] = 1.0
    probs[:, 0, 1] = 0.25
    probs[:2, 0, 2] = 0.5
    entropy = predictive_entropy(probs)[0]
    assert entropy[0] == pytest.approx(0.0, abs=1e-6)
    assert entropy[1] == pytest.approx(1.0, abs=1e-6)
    assert entropy[2] == pytest.approx(math.log(2) / math.log(4), abs=1e-6)
    assert predictive_entropy(np.ones((1, 2, 2))).max() == 0.0


def test_tta_spread_raises_uncertainty_where_passes_disagree() -> None:
    entropy = np.array([[0.1, 0.1]], np.float32)
    spread = np.array([[0.0, 0.4]], np.float32)
    combined = combine_uncertainty(entropy, spread)
    np.testing.assert_allclose(combined, [[0.1, 0.8]])
    assert combine_uncertainty(entropy, None) is entropy


@pytest.mark.parametrize("classes", [1, 2, 5])
def test_channel_argmax_is_numpys_argmax_ties_included(classes: int) -> None:
    rng = np.random.default_rng(classes)
    probs = rng.integers(0, 4, size=(classes, 37, 53)).astype(np.float32)  # many ties
    labels = channel_argmax(probs)
    assert labels.dtype == np.uint8
    assert np.array_equal(labels, np.argmax(probs, axis=0))
    with pytest.raises(ValueError, match="1-256 classes"):
        channel_argmax(probs[0])


def test_class_confidence_is_the_mean_probability_over_the_predicted_region() -> None:
    probs = np.array(
        [
            [[0.2, 0.1, 0.7, 0.6]],  # background
            [[0.8, 0.9, 0.3, 0.4]],  # root
            [[0.0, 0.0, 0.0, 0.0]],  # shoot
        ],
        np.float32,
    )
    confidence = class_confidence(probs, ("background", "root", "shoot"), ("root", "shoot"))
    assert confidence == {"root": pytest.approx(0.85), "shoot": 0.0}


def test_flips_are_undone() -> None:
    image = np.arange(24, dtype=np.float32).reshape(1, 4, 6)
    for name in ("identity", "hflip", "vflip"):
        assert np.array_equal(unflip(flip(image, name), name), image)
    assert np.array_equal(flip(image, "hflip")[0, 0], image[0, 0, ::-1])
    assert np.array_equal(flip(image, "vflip")[0, :, 0], image[0, ::-1, 0])


@pytest.mark.parametrize(
    ("option", "passes"),
    [
        (False, ("identity",)),
        (None, ("identity",)),
        (True, ("identity", "hflip")),
        ("flips", ("identity", "hflip", "vflip")),
        (["hflip"], ("hflip",)),
        ([], ("identity",)),
    ],
)
def test_tta_options(option: object, passes: tuple[str, ...]) -> None:
    assert flips_for(option) == passes  # type: ignore[arg-type]


def test_unknown_tta_passes_are_refused() -> None:
    with pytest.raises(ValueError, match="rotate"):
        flips_for(["rotate"])
