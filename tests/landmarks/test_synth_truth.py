"""find_landmarks on the ground-truth masks of synthetic plates: tips within 1 mm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.landmarks import find_landmarks

synth = pytest.importorskip("visionkit.synth", reason="visionkit.synth is not available")


def _hit_rate(seeds, full_scale: bool) -> tuple[int, int]:
    import cv2

    hits = total = 0
    for seed in seeds:
        if full_scale:  # the masks a model is trained on, shrunk to the working scale
            plate = synth.generate_plate(seed, synth.SynthConfig())
            maps = {
                name: cv2.resize(
                    mask.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA
                )
                for name, mask in plate.masks.items()
            }
            scale = 0.5
        else:
            plate = synth.generate_plate(seed, synth.SynthConfig().scaled(0.5))
            maps = {name: mask.astype(np.float32) for name, mask in plate.masks.items()}
            scale = 1.0
        px_per_mm = scale / plate.landmarks["dish"]["mm_per_px"]
        found = find_landmarks(
            maps["root"],
            maps["shoot"],
            maps["seed"],
            occluded_prob=maps["occluded_root"],
            px_per_mm=px_per_mm,
        ).plants
        for truth in plate.landmarks["plants"]:
            if not truth["present"]:
                continue
            total += 1
            start_x = truth["start"]["x"] * scale
            mine = min(found, key=lambda p: abs(p.anchor[0] - start_x), default=None)
            if mine is None or mine.tip is None:
                continue
            tip = (truth["tip"]["x"] * scale, truth["tip"]["y"] * scale)
            hits += math.dist(mine.tip, tip) <= px_per_mm  # 1 mm
    return hits, total


def test_tips_on_half_scale_synthetic_masks_are_within_a_millimetre():
    hits, total = _hit_rate(range(3), full_scale=False)

    assert total >= 12
    assert hits / total >= 0.9


@pytest.mark.slow
def test_tips_on_full_scale_masks_shrunk_to_working_scale_are_within_a_millimetre():
    hits, total = _hit_rate(range(12), full_scale=True)

    assert total >= 50
    assert hits / total >= 0.9
