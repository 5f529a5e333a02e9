"""Is this image like the plates the model was trained on? An out-of-distribution score.

A segmentation network answers confidently even on a photo of a cat. Before
trusting its probabilities, :func:`ood_score` measures a few statistics of
the *input* that every Hades plate shares, and how far each lies outside the
range seen on training plates:

``agar``
    median grey level over the dish (light-grey agar);
``noise``
    sensor noise, a robust standard deviation of horizontal pixel
    differences (``1.4826 * MAD / sqrt(2)``) on every 8th row, in grey levels;
``contrast``
    agar level minus the 0.5th percentile of a 256 x 256 thumbnail of the
    whole image (the dark rim and surround give a Hades frame a dark tail);
``spread``
    the thumbnail's inter-quartile range: agar is flat, a scene is not;
``edges``
    the fraction of thumbnail pixels with a gradient above 8 grey levels per
    pixel: a plate is mostly empty agar;
``colour``
    the mean difference between colour channels over 255 (Hades is grey);
``dish``
    whether :func:`visionkit.data.dish.detect_dish` found a dish.

Each statistic outside its ``(low, high)`` range by ``excess`` contributes
``1 - exp(-excess / tolerance)``; a missing dish contributes 0.5; the score
is ``1 - prod(1 - contribution)``, in [0, 1]. ``confidence.image`` in a
prediction is ``1 - score``, and a score above :data:`WARN_ABOVE` adds a
warning. The ranges (:data:`HADES_RANGES`) were measured on the real Hades
dish crop and on synthetic plates at scales 0.15 to 1, with room to spare;
a model trained on other plates stores its own under
``ModelConfig.extra["ood_ranges"]`` (same keys, ``[low, high, tolerance]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from visionkit.imageio import to_grey

__all__ = ["HADES_RANGES", "WARN_ABOVE", "OodReport", "image_statistics", "ood_score"]

#: statistic -> (low, high, tolerance): Hades-like ranges, see the module docstring.
HADES_RANGES: dict[str, tuple[float, float, float]] = {
    "agar": (120.0, 245.0, 20.0),
    "noise": (0.8, 8.0, 1.0),
    "contrast": (25.0, 255.0, 15.0),
    "spread": (0.0, 40.0, 20.0),
    "edges": (0.0, 0.25, 0.1),
    "colour": (0.0, 0.02, 0.03),
}

#: Scores above this add a warning to the prediction.
WARN_ABOVE = 0.5

_NO_DISH = 0.5
_THUMB = 256


@dataclass(frozen=True)
class OodReport:
    """The out-of-distribution verdict on one image.

    Attributes:
        score: 0 (looks like a training plate) to 1 (nothing like one).
        statistics: the measured statistics (see the module docstring).
        reasons: one line per statistic out of range, e.g.
            ``"agar grey level 3 is outside 120-245"``.
    """

    score: float
    statistics: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """``1 - score``: the image-level confidence of a prediction."""
        return 1.0 - self.score

    @property
    def flagged(self) -> bool:
        """Whether the score is above :data:`WARN_ABOVE`."""
        return self.score > WARN_ABOVE

    def warning(self) -> str:
        """A one-line warning for the prediction."""
        detail = "; ".join(self.reasons) or "statistics at the edge of the Hades ranges"
        return (
            f"image looks unlike the Hades plates the model was trained on "
            f"(out-of-distribution score {self.score:.2f}: {detail}); check the image"
        )


def _thumbnail(grey: np.ndarray) -> np.ndarray:
    """``grey`` area-averaged to ``_THUMB`` x ``_THUMB``.

    Halved by exact 2 x 2 means while it is at least four times the
    thumbnail, then resized: the same thumbnail within half a grey level on
    average, at a tenth of the cost of one area resize of a full frame
    (OpenCV's non-integer area resize is slow; its exact halving is fast).
    """
    import cv2

    while min(grey.shape[:2]) >= 4 * _THUMB:
        h, w = grey.shape[:2]
        even = grey[: h - h % 2, : w - w % 2]
        grey = cv2.resize(even, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(grey, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA))


def image_statistics(image: np.ndarray, bbox: tuple[int, int, int, int] | None) -> dict[str, float]:
    """The statistics of the module docstring, over ``bbox`` (the dish) or the whole image."""
    import cv2

    region = image
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        region = image[y0:y1, x0:x1]
    colour = 0.0
    if region.ndim == 3 and region.shape[2] >= 3:
        sample = region[::4, ::4, :3].astype(np.float32)
        spread_rgb = sample.max(axis=2) - sample.min(axis=2)
        colour = float(spread_rgb.mean() / 255.0) if spread_rgb.size else 0.0
    grey = to_grey(region)
    if grey.size == 0:
        return {"agar": 0.0, "noise": 0.0, "contrast": 0.0, "spread": 0.0, "edges": 0.0}
    agar = float(np.median(grey[::4, ::4]))
    rows = grey[::8, : 2048 + 1].astype(np.float32)  # a sample is plenty for a median
    if rows.shape[1] > 1:
        diff = rows[:, 1:] - rows[:, :-1]
        mad = float(np.median(np.abs(diff - np.median(diff))))
        noise = 1.4826 * mad / math.sqrt(2.0)
    else:
        noise = 0.0
    thumb = _thumbnail(grey).astype(np.float32)
    whole = thumb if bbox is None else _thumbnail(to_grey(image))
    contrast = agar - float(np.percentile(whole, 0.5))
    q1, q3 = np.percentile(thumb, [25, 75])
    gx = cv2.Sobel(thumb, cv2.CV_32F, 1, 0) / 8.0
    gy = cv2.Sobel(thumb, cv2.CV_32F, 0, 1) / 8.0
    edges = float(np.mean(np.hypot(gx, gy) > 8.0))
    return {
        "agar": agar,
        "noise": round(noise, 3),
        "contrast": contrast,
        "spread": float(q3 - q1),
        "edges": round(edges, 4),
        "colour": round(colour, 4),
    }


_LABELS = {
    "agar": "agar grey level",
    "noise": "sensor noise",
    "contrast": "contrast to the dark rim",
    "spread": "grey-level spread",
    "edges": "edge density",
    "colour": "colourfulness",
}


def ood_score(
    image: np.ndarray,
    bbox: tuple[int, int, int, int] | None,
    *,
    dish_found: bool = True,
    ranges: Mapping[str, Any] | None = None,
) -> OodReport:
    """Score how unlike a Hades plate ``image`` is (see the module docstring).

    Args:
        image: the input, ``uint8`` grey or colour.
        bbox: the dish's ``(x0, y0, x1, y1)``; ``None`` measures the whole image.
        dish_found: whether a dish was found (a missing dish adds 0.5).
        ranges: per statistic ``(low, high, tolerance)``; defaults to
            :data:`HADES_RANGES`; keys left out keep the default.
    """
    limits = {k: tuple(float(v) for v in value) for k, value in HADES_RANGES.items()}
    for key, value in (ranges or {}).items():
        limits[key] = tuple(float(v) for v in value)
    stats = image_statistics(image, bbox)
    keep = 1.0
    reasons: list[str] = []
    for key, value in stats.items():
        low, high, tolerance = limits[key][:3]
        excess = max(low - value, value - high, 0.0)
        if excess > 0:
            keep *= math.exp(-excess / max(tolerance, 1e-9))
            reasons.append(f"{_LABELS.get(key, key)} {value:g} is outside {low:g}-{high:g}")
    if not dish_found:
        keep *= 1.0 - _NO_DISH
        reasons.append("no dish found")
    score = min(1.0, max(0.0, 1.0 - keep))
    return OodReport(score=round(score, 4), statistics=stats, reasons=reasons)
