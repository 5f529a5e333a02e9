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

from visionkit.prediction import Prediction

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


def test_no_real_tip_is_doubted_for_a_trail_and_each_stays_confident(prediction) -> None:  # type: ignore[no-untyped-def]
    """On the real image the agar beyond each tip is clear: no trail to doubt or follow."""
    for plant in prediction.plants:
        assert plant.tip is not None
        assert plant.tip_factors["tip_trail"] == 1.0, f"plant {plant.plant}"
        assert plant.tip_factors["tip_followed"] == 1.0, f"plant {plant.plant}: tip moved"
        assert plant.tip.confidence >= 0.8, f"plant {plant.plant}: {plant.tip.confidence:.2f}"


def _resized(factor: float) -> np.ndarray:
    """The real crop as a camera with ``factor`` times its resolution would see it."""
    import cv2

    from visionkit.imageio import read_image

    image, _ = read_image(REAL_CROP)
    size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def _tip_errors_mm(prediction: Prediction, resized: Prediction, factor: float) -> list[float]:
    """Each full-size tip's distance in mm to the resized plate's tip of the same plant."""
    assert prediction.dish is not None
    mm = prediction.dish.mm_per_px
    errors = []
    for full, small in zip(prediction.plants, resized.plants, strict=True):
        assert full.tip is not None
        assert small.tip is not None, f"plant {small.plant}: no tip at {factor}x"
        # pixel centres map to pixel centres: x = (x' + 0.5) / factor - 0.5
        x, y = ((np.array([small.tip.x, small.tip.y]) + 0.5) / factor) - 0.5
        dx, dy = x - full.tip.x, y - full.tip.y
        errors.append(float(np.hypot(dx, dy)) * mm)
    return errors


@pytest.mark.parametrize("factor", [0.5, 1.5])
def test_half_and_one_and_a_half_resolution_find_the_same_tips_within_a_millimetre(
    prediction: Prediction, factor: float
) -> None:
    from visionkit.pipeline import predict

    resized = predict(_resized(factor), masks=False)
    assert len(resized.plants) == 5
    errors = _tip_errors_mm(prediction, resized, factor)
    assert max(errors) <= 1.0, f"tip errors at {factor}x: {errors} mm"
    assert resized.confidence["image"] == pytest.approx(prediction.confidence["image"])
    assert not resized.warnings


def test_a_quarter_resolution_plate_is_flagged_and_its_tips_stay_within_two_millimetres(
    prediction: Prediction,
) -> None:
    """5 px/mm, where a tip is a pixel or two wide: below the model's 10 px/mm."""
    from visionkit.pipeline import predict

    resized = predict(_resized(0.25), masks=False)
    assert any("below the model's resolution" in w for w in resized.warnings)
    assert resized.confidence["image"] < 0.9
    errors = _tip_errors_mm(prediction, resized, 0.25)
    assert max(errors) <= 2.0, f"tip errors at 0.25x: {errors} mm"
