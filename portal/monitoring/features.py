"""The numbers drift monitoring compares, computed the same way for reference plates and live ones.

Grey-level statistics catch darker, brighter or differently exposed plates;
``sharpness`` (the variance of the Laplacian on the image scaled to 1024 px
on its long side, so it does not depend on resolution) catches blurred ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DRIFT_FEATURES", "image_features"]

#: The features drift is tested on, in the order the pages list them.
DRIFT_FEATURES: tuple[str, ...] = (
    "grey_mean", "grey_std", "grey_p5", "grey_p50", "grey_p95", "sharpness",
)  # fmt: skip

_SIDE = 1024


def image_features(image: np.ndarray) -> dict[str, Any]:
    """Grey-level percentiles, mean, spread and sharpness of one image (any depth, grey or RGB)."""
    import cv2

    from visionkit.imageio import to_grey

    grey = to_grey(image).astype(np.float32)
    p1, p5, p50, p95, p99 = (float(v) for v in np.percentile(grey, [1, 5, 50, 95, 99]))
    scale = _SIDE / max(grey.shape)
    small = (
        cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else grey
    )
    sharpness = float(cv2.Laplacian(small, cv2.CV_32F).var())
    return {
        "grey_mean": round(float(grey.mean()), 3),
        "grey_std": round(float(grey.std()), 3),
        "grey_p1": p1,
        "grey_p5": p5,
        "grey_p50": p50,
        "grey_p95": p95,
        "grey_p99": p99,
        "sharpness": round(sharpness, 3),
    }
