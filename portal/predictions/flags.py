"""Why a prediction needs a person's look before the robot moves.

A plate is flagged when a tip is missing or below the robot's confidence
threshold (``VISIONKIT_TIP_CONFIDENCE``), when it holds another number of
plants than a dish should (``VISIONKIT_EXPECTED_PLANTS``), or when the image
looks unlike what the model was trained on (image confidence below
``VISIONKIT_IMAGE_CONFIDENCE``, the out-of-distribution score).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from portal.predictions.models import Prediction

__all__ = ["review_reasons", "tip_is_actionable"]


def tip_is_actionable(tip: dict[str, Any] | None) -> bool:
    """Whether the robot would act on ``tip`` (found, and confident enough)."""
    return (
        tip is not None and float(tip.get("confidence", 0.0)) >= settings.VISIONKIT_TIP_CONFIDENCE
    )


def review_reasons(prediction: Prediction) -> list[str]:
    """What in ``prediction`` a person should check; empty when nothing is."""
    reasons: list[str] = []
    plants = prediction.contract.get("plants") or []
    expected = int(settings.VISIONKIT_EXPECTED_PLANTS)
    if len(plants) != expected:
        reasons.append(f"{len(plants)} plants found, {expected} expected")
    unsure = [p["plant"] for p in plants if not tip_is_actionable(p.get("tip"))]
    if unsure:
        listed = ", ".join(str(n) for n in unsure)
        reasons.append(f"plant {listed}: no tip the robot would act on")
    image = (prediction.contract.get("confidence") or {}).get("image")
    if image is not None and float(image) < settings.VISIONKIT_IMAGE_CONFIDENCE:
        reasons.append(f"unusual image (confidence {float(image):.2f})")
    return reasons
