"""Any camera's resolution: plates are shown to the model at the resolution it was trained on."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.models import band_model
from tests.helpers.plates import draw_plate
from visionkit.data.dish import DISH_MM, Dish
from visionkit.inference.resolution import MIN_RATIO, choose_resolution
from visionkit.modelfolder import ModelConfig, SavedModel
from visionkit.pipeline import predict

#: The default model's settings: half of a Hades frame's 20 px/mm, trained with +-20 % zoom.
DEFAULT_LIKE = ModelConfig(
    architecture="unet",
    scale=0.5,
    extra={"train_config": {"data_scale": 1.0, "scale_jitter": 0.2}},
)


def _dish(px_per_mm: float) -> Dish:
    side = DISH_MM * px_per_mm
    return Dish(
        True,
        (0, 0, round(side), round(side)),
        0.0,
        side,
        DISH_MM / side,
        (side / 2, side / 2),
        None,
        1.0,
        "",
        (round(side), round(side)),
    )


def test_a_plate_at_the_training_resolution_runs_at_the_models_own_scale() -> None:
    chosen = choose_resolution(DEFAULT_LIKE, None, _dish(20.15))
    assert chosen.scale == 0.5
    assert chosen.keep() == 1.0
    assert chosen.warning() is None


@pytest.mark.parametrize("px_per_mm", [10.0, 30.0, 13.0])
def test_other_resolutions_are_resampled_to_the_models(px_per_mm: float) -> None:
    chosen = choose_resolution(DEFAULT_LIKE, None, _dish(px_per_mm))
    assert chosen.scale * px_per_mm == pytest.approx(10.0)
    assert chosen.warning() is None
    assert chosen.keep() == 1.0


def test_a_plate_far_below_the_models_resolution_is_flagged() -> None:
    chosen = choose_resolution(DEFAULT_LIKE, None, _dish(5.0))
    assert chosen.scale == pytest.approx(2.0)
    assert chosen.below_model
    assert "below the model's resolution" in (chosen.warning() or "")
    assert chosen.keep() == pytest.approx(0.5 / MIN_RATIO)


def test_without_a_measured_dish_the_scale_is_the_training_one_and_said_to_be_assumed() -> None:
    chosen = choose_resolution(DEFAULT_LIKE, None, None)
    assert chosen.scale == 0.5
    assert chosen.keep() < 1.0
    assert "not measured" in (chosen.reason() or "")


def test_a_scale_the_caller_fixes_is_kept() -> None:
    chosen = choose_resolution(DEFAULT_LIKE, 0.3, _dish(10.0))
    assert (chosen.scale, chosen.chosen) == (0.3, False)


def _hades_band_model() -> SavedModel:
    """The band model as if trained on Hades frames at working scale 0.5 (10 px/mm)."""
    model = band_model(scale=0.5)
    return dataclasses.replace(model, config=dataclasses.replace(model.config, extra={}))


def test_a_small_plate_is_resampled_flagged_and_mapped_back_to_its_pixels() -> None:
    """A drawn plate is 3.4 px/mm: a third of what the model works at."""
    plate = draw_plate()
    prediction = predict(plate.image, _hades_band_model(), backend="torch", masks=False)
    assert prediction.dish is not None
    px_per_mm = 1.0 / prediction.dish.mm_per_px
    assert any("below the model's resolution" in w for w in prediction.warnings)
    assert prediction.confidence["image"] < 0.5
    for plant, tip in zip(prediction.plants, plate.tips, strict=True):
        assert plant.tip is not None
        assert math.dist((plant.tip.x, plant.tip.y), tip) <= 1.0 * px_per_mm  # 1 mm


def test_a_small_plate_gets_its_masks_at_its_own_size() -> None:
    """Maps worked out larger than the plate are brought down to it, not "up-sampled"."""
    plate = draw_plate()
    prediction = predict(plate.image, _hades_band_model(), backend="torch")
    height, width = plate.image.shape[:2]
    for name in ("root", "shoot", "seed"):
        mask = prediction.mask_arrays[name]
        assert mask.shape == (height, width), name
        assert set(np.unique(mask)) <= {0, 255}, name
    assert prediction.mask_arrays["root"].any()


@pytest.mark.parametrize("dish", [None, (100, 10, 560, 470)])
def test_where_the_dish_is_not_measured_the_image_confidence_says_so(dish: object) -> None:
    plate = draw_plate()
    measured = predict(plate.image, band_model(), backend="torch", masks=False)
    unmeasured = predict(plate.image, band_model(), backend="torch", masks=False, dish=dish)
    assert measured.confidence["image"] == 1.0
    assert unmeasured.confidence["image"] <= 0.7
    assert any("no dish was measured" in w for w in unmeasured.warnings)


def test_a_synthetic_plate_at_half_resolution_gives_its_true_tips_within_a_millimetre(
    tmp_path: Path,
) -> None:
    """A plate drawn by ``visionkit synth`` at 10 px/mm (half a Hades frame's), dish crop."""
    from visionkit.data import HadesDataset
    from visionkit.pipeline import DEFAULT_MODEL_DIR
    from visionkit.synth import SynthConfig, generate_dataset

    if not DEFAULT_MODEL_DIR.is_dir():
        pytest.skip("no default model is installed")
    generate_dataset(
        tmp_path, 1, seed=2, crop=True, config=SynthConfig().scaled(0.5), progress=False
    )
    sample = HadesDataset(tmp_path)[0]
    assert sample.landmarks is not None
    mm_per_px = sample.landmarks["dish"]["mm_per_px"]
    truth = [p["tip"] for p in sample.landmarks["plants"] if p.get("present") and p.get("tip")]
    prediction = predict(sample.image, masks=False)
    found = np.array([(p.tip.x, p.tip.y) for p in prediction.plants if p.tip is not None])
    assert len(truth) == 5
    for tip in truth:
        nearest = np.hypot(*(found - (tip["x"], tip["y"])).T).min() * mm_per_px
        assert nearest <= 1.0, f"true tip {tip} is {nearest:.2f} mm from the nearest found"
    assert prediction.confidence["image"] == 1.0
