"""Inference: from a plate image to probability maps a robot can rely on.

The pieces, one idea per module:

:mod:`~visionkit.inference.tiling`
    the tile grid over a working image and the cosine windows that blend
    overlapping tiles without seams;
:mod:`~visionkit.inference.runtime`
    eager PyTorch, TorchScript and ONNX Runtime behind one call;
:mod:`~visionkit.inference.tta`
    test-time augmentation (flips) and their inverses;
:mod:`~visionkit.inference.temperature`
    softmax with a temperature, fitting that temperature, calibration error;
:mod:`~visionkit.inference.uncertainty`
    per-pixel uncertainty and per-class confidence;
:mod:`~visionkit.inference.ood`
    the image-level out-of-distribution score;
:mod:`~visionkit.inference.resolution`
    the working scale that shows any camera's plate at the model's resolution;
:mod:`~visionkit.inference.segment`
    :func:`segment_image`, which ties them together into a
    :class:`SegmentationResult`.

What each confidence means
--------------------------

Every number is in [0, 1] and is measured, not guessed:

pixel probability
    the model's softmax output for each class after temperature scaling
    (``ModelConfig.temperature``, fitted with
    :func:`~visionkit.inference.temperature.fit_temperature` on held-out
    plates), averaged over the blended tiles and, with TTA, over the flips.
    Once the temperature is fitted, 0.8 means "right about 80 % of the time".
pixel uncertainty
    the predictive entropy of those probabilities divided by its maximum,
    ``log(n_classes)`` (0 = one class certain, 1 = all classes equally
    likely). With TTA it is the larger of that and twice the standard
    deviation of the root probability across the flips (the flips disagree).
class confidence (``confidence.root`` / ``shoot`` / ``seed``)
    the mean probability of that class over the pixels predicted to be that
    class (its arg-max region); 0 when no pixel was predicted as the class.
image confidence (``confidence.image``)
    ``1 - ood_score``: how much the input looks like the Hades plates the
    model was trained on (agar grey level, sensor noise, contrast, a dish
    found, no colour); see :mod:`~visionkit.inference.ood`. It is lowered
    where the dish was not measured (the plate's scale is assumed) and for a
    plate far below the model's resolution; see
    :mod:`~visionkit.inference.resolution`.
"""

from __future__ import annotations

from visionkit.inference.ood import OodReport, ood_score
from visionkit.inference.segment import SegmentationResult, segment_image
from visionkit.inference.temperature import expected_calibration_error, fit_temperature

__all__ = [
    "OodReport",
    "SegmentationResult",
    "expected_calibration_error",
    "fit_temperature",
    "ood_score",
    "segment_image",
]
