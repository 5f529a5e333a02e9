"""The smoke check before a switch: the new version, loaded, predicts a reference plate right.

The reference plate is a lab's own plate with hand-checked tips
(``VISIONKIT_SMOKE_PLATE``: an image with ``<stem>.landmarks.json`` beside it,
in the Hades convention of ``docs/synthetic.md``) or, by default, one fixed
synthetic dish crop at full resolution whose true tips the generator knows.
The check passes when the version finds ``VISIONKIT_EXPECTED_PLANTS`` plants
and a tip within ``VISIONKIT_SMOKE_TOLERANCE_MM`` of every reference tip.

Loading the version for the check is what puts it in this process's idle
slot (:func:`portal.predictions.loader.get_predictor`); the same weights on
the same plate always give the same answer, so a passed check is remembered
per process by the weights' and the plate's digests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.registry.models import ModelVersion

__all__ = ["ReferencePlate", "reference_plate", "require_smoke", "smoke_check"]

logger = logging.getLogger(__name__)

#: The synthetic reference: plate 4 of seed 11, cut to its dish (2577 x 2577 px, 5 plants).
SYNTHETIC_SEED, SYNTHETIC_INDEX = 11, 4

_lock = threading.Lock()
_plate: ReferencePlate | None = None
_passed: dict[tuple[str, str, float, int], dict[str, Any]] = {}


@dataclass(frozen=True)
class ReferencePlate:
    """An image and the tips a working model must find on it."""

    name: str
    image: np.ndarray
    tips: list[tuple[float, float]]
    mm_per_px: float
    digest: str


def _from_landmarks(name: str, image: np.ndarray, landmarks: dict[str, Any]) -> ReferencePlate:
    tips = [
        (float(p["tip"]["x"]), float(p["tip"]["y"]))
        for p in landmarks.get("plants") or []
        if p.get("present", True) and p.get("tip")
    ]
    mm_per_px = float((landmarks.get("dish") or {}).get("mm_per_px") or 0.05)
    digest = hashlib.sha256(image.tobytes() + json.dumps(tips).encode()).hexdigest()
    return ReferencePlate(name, image, tips, mm_per_px, digest)


def _load_reference() -> ReferencePlate:
    configured = settings.VISIONKIT_SMOKE_PLATE
    if configured:
        from visionkit.imageio import read_image

        path = Path(configured)
        landmarks_file = path.with_name(path.stem + ".landmarks.json")
        if not path.is_file() or not landmarks_file.is_file():
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"VISIONKIT_SMOKE_PLATE {path} needs the image and {landmarks_file.name} beside it"
            )
        loaded = read_image(path)
        image = loaded[0] if isinstance(loaded, tuple) else loaded
        return _from_landmarks(path.name, image, json.loads(landmarks_file.read_text()))
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(SYNTHETIC_SEED, SynthConfig(), index=SYNTHETIC_INDEX).cropped()
    return _from_landmarks(plate.name, plate.image, plate.landmarks)


def reference_plate() -> ReferencePlate:
    """The process's reference plate, made or read once."""
    global _plate
    with _lock:
        if _plate is None:
            _plate = _load_reference()
    return _plate


def smoke_check(version: ModelVersion) -> dict[str, Any]:
    """Load ``version`` and predict the reference plate; the evidence, with ``passed``."""
    from portal.predictions.loader import get_predictor

    plate = reference_plate()
    tolerance = float(settings.VISIONKIT_SMOKE_TOLERANCE_MM)
    expected = int(settings.VISIONKIT_EXPECTED_PLANTS)
    key = (version.sha256, plate.digest, tolerance, expected)
    if key in _passed:
        return _passed[key] | {"remembered": True}
    started = time.perf_counter()
    predictor = get_predictor(version)
    result = predictor.predict(plate.image, name=plate.name)
    seconds = time.perf_counter() - started
    found = [(p.plant, p.tip) for p in result.plants if p.tip is not None]
    tips: list[dict[str, Any]] = []
    for x, y in plate.tips:
        best = min(found, key=lambda pt: math.hypot(pt[1].x - x, pt[1].y - y), default=None)
        distance = math.hypot(best[1].x - x, best[1].y - y) * plate.mm_per_px if best else None
        tips.append({
            "reference": {"x": round(x, 1), "y": round(y, 1)},
            "plant": best[0] if best else None,
            "distance_mm": round(distance, 3) if distance is not None else None,
            "ok": distance is not None and distance <= tolerance,
        })  # fmt: skip
    evidence: dict[str, Any] = {
        "plate": plate.name,
        "model_version": version.pk,
        "plants": len(result.plants),
        "expected_plants": expected,
        "tolerance_mm": tolerance,
        "tips": tips,
        "seconds": round(seconds, 2),
        "passed": len(result.plants) == expected and all(tip["ok"] for tip in tips),
    }
    if evidence["passed"]:
        _passed[key] = evidence
    logger.info("smoke check of %s v%s on %s: %s (%d plants, %.1f s)", version.name,
                version.version, plate.name, "passed" if evidence["passed"] else "FAILED",
                len(result.plants), seconds)  # fmt: skip
    return evidence


def require_smoke(version: ModelVersion, *, user: User | None) -> dict[str, Any]:
    """The smoke check's evidence; a failure is recorded and refuses the switch.

    Raises:
        RegistryError: the check failed (the message says what was wrong).
    """
    from portal.registry.services import RegistryError
    from portal.serving.models import Deployment, DeploymentEvent

    evidence = smoke_check(version)
    if evidence["passed"]:
        return evidence
    deployment, _ = Deployment.objects.get_or_create(name=version.name)
    DeploymentEvent.objects.create(
        deployment=deployment, action="smoke-failed", model_version=version,
        slot=deployment.idle_slot, generation=deployment.generation, smoke=evidence,
        reason="refused: the smoke check failed", by=user,
    )  # fmt: skip
    missed = [t for t in evidence["tips"] if not t["ok"]]
    raise RegistryError(
        f"{version.name} v{version.version} failed the smoke check on {evidence['plate']}: "
        f"{evidence['plants']} plants (expected {evidence['expected_plants']}), "
        f"{len(missed)} of {len(evidence['tips'])} reference tips not found within "
        f"{evidence['tolerance_mm']} mm; production is unchanged",
        conflict=True,
        problems=[f"reference tip at ({t['reference']['x']}, {t['reference']['y']}): "
                  + (f"{t['distance_mm']} mm off" if t["distance_mm"] is not None else "no tip")
                  for t in missed],
    )  # fmt: skip
