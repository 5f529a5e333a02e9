"""Input drift: the production version's recent plates against the plates it learned from.

The reference is ``ModelVersion.reference_stats``: the features of
:mod:`portal.monitoring.features` for each plate of the data set it was
trained and validated on, stored at registration (or set with ``manage.py
drift_reference``). The current sample is the latest
``VISIONKIT_DRIFT_WINDOW`` predictions the version made.

Each feature is tested with the rule Evidently applies by default to a
numerical column, done with scipy here (a plain function, no server): up to
1000 reference rows, the two-sample Kolmogorov-Smirnov test, drifted at
p < 0.05; beyond, the Wasserstein distance divided by the reference's
standard deviation, drifted above 0.1. The data set drifts when the share of
drifted features reaches ``VISIONKIT_DRIFT_SHARE`` (Evidently's default, one
half). Every result keeps the test, the statistic and the threshold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.conf import settings

from portal.monitoring.features import DRIFT_FEATURES
from portal.monitoring.models import DriftReport
from portal.registry.models import ModelVersion

__all__ = [
    "KS_MAX_REFERENCE",
    "NotEnoughData",
    "check_drift",
    "feature_drift",
    "reference_from_folder",
]

logger = logging.getLogger(__name__)

#: Up to this many reference rows the KS test is used; beyond, the Wasserstein distance.
KS_MAX_REFERENCE = 1000
KS_P_VALUE = 0.05
WASSERSTEIN_THRESHOLD = 0.1


class NotEnoughData(Exception):  # noqa: N818 - an outcome a caller reports, not a failure
    """Too few predictions or no reference to test; the message says which."""


def feature_drift(reference: Sequence[float], current: Sequence[float]) -> dict[str, Any]:
    """One feature's drift test (KS or normalised Wasserstein, as the module docstring says)."""
    from scipy import stats

    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    if len(ref) <= KS_MAX_REFERENCE:
        result = stats.ks_2samp(ref, cur)
        p_value = float(result.pvalue)
        return {
            "test": "Kolmogorov-Smirnov (two-sample)",
            "statistic": round(float(result.statistic), 4),
            "p_value": p_value,
            "threshold": f"p < {KS_P_VALUE}",
            "drifted": p_value < KS_P_VALUE,
        }
    spread = float(ref.std()) or 1e-9
    distance = float(stats.wasserstein_distance(ref, cur)) / spread
    return {
        "test": "Wasserstein distance / reference std",
        "statistic": round(distance, 4),
        "p_value": None,
        "threshold": f"> {WASSERSTEIN_THRESHOLD}",
        "drifted": distance > WASSERSTEIN_THRESHOLD,
    }


def _column(rows: Sequence[dict[str, Any]], feature: str) -> list[float]:
    values = []
    for row in rows:
        value = row.get(feature)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            values.append(float(value))
    return values


def check_drift(version: ModelVersion, *, trigger: str = "schedule") -> DriftReport:
    """Test ``version``'s latest predictions against its reference and keep the report.

    Raises:
        NotEnoughData: no reference stored, or fewer predictions than
            ``VISIONKIT_DRIFT_MIN_PREDICTIONS``.
    """
    reference = list(version.reference_stats or [])
    if not reference:
        raise NotEnoughData(
            f"{version.name} v{version.version} has no drift reference: it is stored when a "
            "model is trained in the portal, or set with manage.py drift_reference"
        )
    recent = list(
        version.predictions.order_by("-created_at", "-id").values("input_stats", "created_at")[
            : int(settings.VISIONKIT_DRIFT_WINDOW)
        ]
    )
    minimum = int(settings.VISIONKIT_DRIFT_MIN_PREDICTIONS)
    if len(recent) < minimum:
        raise NotEnoughData(
            f"{version.name} v{version.version} has made {len(recent)} predictions; drift is "
            f"tested from {minimum} (VISIONKIT_DRIFT_MIN_PREDICTIONS)"
        )
    current = [row["input_stats"] or {} for row in recent]
    features = []
    for feature in DRIFT_FEATURES:
        ref, cur = _column(reference, feature), _column(current, feature)
        if len(ref) < 2 or len(cur) < 2:
            continue
        result = feature_drift(ref, cur)
        result |= {
            "feature": feature,
            "reference_mean": round(float(np.mean(ref)), 3),
            "current_mean": round(float(np.mean(cur)), 3),
        }
        features.append(result)
    share = sum(f["drifted"] for f in features) / len(features) if features else 0.0
    report = DriftReport.objects.create(
        model_version=version, n_reference=len(reference), n_current=len(current),
        features=features, drifted_share=round(share, 4),
        drifted=bool(features) and share >= float(settings.VISIONKIT_DRIFT_SHARE),
        first_prediction_at=recent[-1]["created_at"], last_prediction_at=recent[0]["created_at"],
        trigger=trigger,
    )  # fmt: skip
    logger.info("drift of %s v%s: %d of %d features drifted (%s)", version.name, version.version,
                sum(f["drifted"] for f in features), len(features),
                "DRIFT" if report.drifted else "stable")  # fmt: skip
    return report


def reference_from_folder(folder: Any) -> list[dict[str, Any]]:
    """The features of every plate image in a data set folder (the drift reference)."""
    from pathlib import Path

    from portal.monitoring.features import image_features
    from visionkit.data.convention import scan_folder
    from visionkit.imageio import read_image

    rows = []
    for path in scan_folder(Path(folder)).images.values():
        image, _ = read_image(path)
        rows.append({"image": path.name} | image_features(image))
    return rows
