"""Per-plant landmarks from segmentation maps: primary-root start, tip, path and length.

Given per-class probability maps at the model's working resolution::

    from visionkit.landmarks import find_landmarks

    found = find_landmarks(root_prob, shoot_prob, seed_prob, px_per_mm=10.0)
    for p in found.plants:
        print(p.plant, p.tip, p.tip_confidence, p.length_px)
    roots = found.root_support  # bool map: the root pixels that belong to the plants

Each plant is found from its shoot and seed, its root search starts there,
the primary root is the path that best continues the main axis (not the
lowest endpoint), small gaps are bridged along the root's direction, and
crossing neighbours are kept apart. See :mod:`visionkit.landmarks.find` for
the steps and :mod:`visionkit.landmarks.confidence` for what each confidence
measures. A short root's tip can then be placed on the full-resolution
input image (:func:`refine_short_tips`, :mod:`visionkit.landmarks.fine_tip`).
"""

from __future__ import annotations

from visionkit.landmarks.find import NO_ROOT, find_landmarks, plant_root_mask
from visionkit.landmarks.fine_tip import refine_short_tips, refine_tip
from visionkit.landmarks.plants import PlantAnchor, find_plants
from visionkit.landmarks.result import Landmarks, PlantLandmarks

__all__ = [
    "NO_ROOT",
    "Landmarks",
    "PlantAnchor",
    "PlantLandmarks",
    "find_landmarks",
    "find_plants",
    "plant_root_mask",
    "refine_short_tips",
    "refine_tip",
]
