"""The shipped default model on the one real Hades dish we may look at.

The real crop has no masks, so this checks what a user would see: five
plants, each with a tip that lies on its predicted root, below its start, at
the root's lower end. It reads the image from ``../shared/real/`` and never
copies it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REAL_CROP = Path(__file__).resolve().parents[1].parent / "shared" / "real" / "hades_dish_crop.png"

pytest.importorskip("torch", reason="the ml extra (torch) is not installed")


@pytest.fixture(scope="module")
def prediction():  # type: ignore[no-untyped-def]
    from visionkit.pipeline import DEFAULT_MODEL_DIR, predict

    if not REAL_CROP.exists():
        pytest.skip(f"{REAL_CROP} is not on this machine")
    if not DEFAULT_MODEL_DIR.is_dir():
        pytest.skip("no default model is installed")
    return predict(REAL_CROP)


def test_five_plants_are_found_left_to_right(prediction) -> None:  # type: ignore[no-untyped-def]
    assert [p.plant for p in prediction.plants] == [1, 2, 3, 4, 5]
    tips = [p.tip for p in prediction.plants]
    assert all(tip is not None for tip in tips)
    xs = [tip.x for tip in tips]
    assert xs == sorted(xs)
    assert not prediction.warnings


def test_each_tip_is_on_its_root_below_its_start(prediction) -> None:  # type: ignore[no-untyped-def]
    root = prediction.mask_arrays["root"] > 0
    ys, xs = np.nonzero(root)
    for plant in prediction.plants:
        tip, start = plant.tip, plant.start
        assert tip is not None
        assert start is not None
        assert tip.y > start.y + 50, f"plant {plant.plant}: tip not below its start"
        nearest = np.min(np.hypot(xs - tip.x, ys - tip.y))
        assert nearest <= 3.0, f"plant {plant.plant}: tip {nearest:.1f} px off the root mask"
        length_mm = plant.primary_root_length_mm
        assert length_mm is not None
        assert 3.0 < length_mm < 40.0


def test_each_tip_is_at_the_lower_end_of_its_root(prediction) -> None:  # type: ignore[no-untyped-def]
    """No root pixel near the plant's root runs more than 1 mm below its tip."""
    import cv2

    root = (prediction.mask_arrays["root"] > 0).astype(np.uint8)
    _count, labels = cv2.connectedComponents(root, connectivity=8)
    mm = prediction.dish.mm_per_px
    for plant in prediction.plants:
        tip = plant.tip
        assert tip is not None
        x, y = round(tip.x), round(tip.y)
        window = labels[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4]
        label = int(window.max())
        assert label > 0
        lowest = np.nonzero(labels == label)[0].max()
        assert (lowest - tip.y) * mm <= 1.0, f"plant {plant.plant}: root goes on below the tip"
