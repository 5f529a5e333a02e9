"""segment_image: probabilities over the dish, and the way back to input pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.helpers.band_plugin import AGAR, RIM, ROOT, band_net
from tests.helpers.models import band_model
from tests.helpers.plates import draw_plate
from visionkit.data.dish import detect_dish
from visionkit.exceptions import ImageError, ModelError
from visionkit.inference.segment import SegmentationResult, segment_image
from visionkit.inference.temperature import softmax
from visionkit.modelfolder import SavedModel


def _plate_with_dot(x: float, y: float, *, size: tuple[int, int] = (520, 400)) -> np.ndarray:
    width, height = size
    image = np.full((height, width), RIM, np.uint8)
    image[17:383, 83:449] = AGAR
    shift = 4  # sub-pixel centre, drawn with cv2's fixed-point coordinates
    cv2.circle(image, (round(x * 16), round(y * 16)), 5 * 16, ROOT, -1, cv2.LINE_AA, shift)
    return image


def _centroid(weights: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[0 : weights.shape[0], 0 : weights.shape[1]]
    total = weights.sum()
    return float((xs * weights).sum() / total), float((ys * weights).sum() / total)


@pytest.mark.parametrize(
    ("scale", "dish"),
    [(1.0, "auto"), (0.5, "auto"), (0.37, "auto"), (0.5, None), (0.61, (60, 5, 470, 390))],
)
def test_a_dark_dot_maps_back_to_where_it_was_drawn(scale: float, dish: object) -> None:
    truth = (301.3, 207.6)
    image = _plate_with_dot(*truth)
    result = segment_image(band_model(), image, scale=scale, dish=dish, backend="torch", tile=96)
    root = result.prob("root")
    root[root < 0.5] = 0  # the dot only, not the rim
    _, labelled = cv2.connectedComponents((root > 0).astype(np.uint8))
    at_dot = labelled[tuple(np.round(result.to_working_xy(truth)[::-1]).astype(int))]
    found = result.to_input_xy(_centroid(np.where(labelled == at_dot, root, 0.0)))
    assert np.hypot(*(found - truth)) < 1.0
    mask = result.mask_at_input_size("root")
    assert mask.shape == image.shape
    ys, xs = np.nonzero(mask[150:260, 250:350])
    assert np.hypot(xs.mean() + 250 - truth[0], ys.mean() + 150 - truth[1]) < 1.0


def test_the_dish_is_cropped_and_reported() -> None:
    plate = draw_plate()
    result = segment_image(band_model(scale=0.5), plate.image, backend="torch")
    assert result.dish is not None
    assert result.bbox == result.dish.bbox
    assert abs(result.offset[0] - plate.dish[0]) <= 2
    assert result.working_size == (
        round(result.crop_size[0] * 0.5),
        round(result.crop_size[1] * 0.5),
    )
    assert result.mm_per_px == pytest.approx(129.0 / 440, rel=0.03)
    assert result.working_px_per_mm == pytest.approx(0.5 * 440 / 129.0, rel=0.03)
    assert result.warnings == []
    assert set(result.timing_ms) == {"dish", "segment"}


def test_no_dish_segments_the_whole_image_with_a_warning() -> None:
    image = np.full((120, 150), AGAR, np.uint8)
    image[40:80, 70:73] = ROOT
    result = segment_image(band_model(), image, backend="torch")
    assert result.dish is None
    assert result.offset == (0, 0)
    assert result.crop_size == (150, 120)
    assert any("no dish found" in w for w in result.warnings)
    assert result.mask_at_input_size("root")[60, 71] == 255
    assert result.working_px_per_mm == pytest.approx(20.0)  # nominal Hades resolution


def test_tiling_reproduces_a_pixelwise_model_exactly() -> None:
    import torch

    plate = draw_plate()
    model = band_model()
    small = segment_image(model, plate.image, tile=64, overlap=16, batch=3, backend="torch")
    whole = segment_image(model, plate.image, tile=1024, backend="torch")
    np.testing.assert_allclose(small.probabilities, whole.probabilities, atol=1e-5)
    x0, y0, x1, y1 = small.bbox
    crop = plate.image[y0:y1, x0:x1].astype(np.float32) / 255.0
    logits = band_net()(torch.from_numpy((crop - 0.5) / 0.25)[None, None]).numpy()[0]
    np.testing.assert_allclose(small.probabilities, softmax(logits), atol=1e-5)
    assert small.probabilities.sum(axis=0) == pytest.approx(1.0, abs=1e-5)


def test_the_models_temperature_softens_probabilities() -> None:
    plate = draw_plate()
    sharp = segment_image(band_model(), plate.image, backend="torch")
    soft = segment_image(band_model(temperature=3.0), plate.image, backend="torch")
    assert soft.probabilities.max(axis=0).mean() < sharp.probabilities.max(axis=0).mean()
    np.testing.assert_array_equal(soft.labels(), sharp.labels())  # arg-max unchanged
    assert soft.uncertainty.mean() > sharp.uncertainty.mean()


def test_tta_reports_disagreement_only_where_passes_differ(tiny_unet) -> None:  # type: ignore[no-untyped-def]
    plate = draw_plate(320, 240, dish=(50, 10, 280, 235))
    pixelwise = segment_image(band_model(), plate.image, tta=True, backend="torch")
    assert pixelwise.disagreement is not None
    assert pixelwise.disagreement.max() < 1e-5  # a pixel-wise model is flip-invariant
    learned = segment_image(tiny_unet, plate.image, tta="flips", backend="torch")
    assert learned.disagreement is not None
    assert learned.disagreement.max() > 1e-3
    assert learned.uncertainty.min() >= 0.0
    assert learned.uncertainty.max() <= 1.0
    assert np.all(learned.uncertainty >= 2 * learned.disagreement - 1e-6)
    plain = segment_image(tiny_unet, plate.image, backend="torch")
    assert plain.disagreement is None


def test_half_precision_storage_keeps_the_answer() -> None:
    plate = draw_plate()
    half = segment_image(band_model(), plate.image, dtype=np.float16, backend="torch")
    full = segment_image(band_model(), plate.image, backend="torch")
    assert half.probabilities.dtype == np.float16
    assert half.probabilities.nbytes * 2 == full.probabilities.nbytes
    np.testing.assert_array_equal(
        half.masks_at_input_size()["root"], full.masks_at_input_size()["root"]
    )


def test_colour_input_is_converted_for_a_grey_model() -> None:
    plate = draw_plate()
    colour = np.repeat(plate.image[:, :, None], 3, axis=2)
    grey = segment_image(band_model(), plate.image, backend="torch")
    rgb = segment_image(band_model(), colour, backend="torch")
    np.testing.assert_allclose(rgb.probabilities, grey.probabilities, atol=1e-4)
    rgba = np.dstack([colour, np.full(plate.image.shape, 255, np.uint8)])
    assert segment_image(band_model(), rgba, backend="torch").bbox == grey.bbox


def test_masks_are_zero_and_255_at_input_size_and_zero_outside_the_dish() -> None:
    plate = draw_plate()
    result = segment_image(band_model(scale=0.5), plate.image, backend="torch")
    masks = result.masks_at_input_size()
    assert set(masks) == {"root", "shoot", "seed"}
    for mask in masks.values():
        assert mask.shape == plate.image.shape
        assert mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 255}
    x0, _y0, _, _ = result.bbox
    assert not masks["root"][:, : x0 - 1].any()
    tip_x, tip_y = plate.tips[0]
    assert masks["root"][round(tip_y) - 5, round(tip_x)] == 255
    assert masks["shoot"][round(plate.starts[0][1]) - 7, round(plate.starts[0][0])] == 255
    confidence = result.class_confidence()
    assert confidence["root"] == pytest.approx(1.0, abs=0.05)
    assert confidence["shoot"] == pytest.approx(1.0, abs=0.05)
    assert 0.0 <= confidence["seed"] <= 1.0


def test_a_given_dish_box_or_dish_object_is_used() -> None:
    plate = draw_plate()
    boxed = segment_image(band_model(), plate.image, dish=(100, 10, 560, 470), backend="torch")
    assert boxed.bbox == (100, 10, 560, 470)
    assert boxed.dish is None
    assert boxed.mm_per_px is None
    dish = detect_dish(plate.image)
    assert segment_image(band_model(), plate.image, dish=dish, backend="torch").dish is dish
    blank = np.full((100, 100), 128, np.uint8)
    missing = segment_image(band_model(), blank, dish=detect_dish(blank), backend="torch")
    assert missing.dish is None
    assert missing.warnings


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "match"),
    [
        (np.zeros((0, 5), np.uint8), {}, ImageError, "non-empty"),
        (np.zeros((50, 50), np.float32), {}, ImageError, "uint8"),
        (np.zeros((50, 50), np.uint8), {"scale": 0.0}, ValueError, "scale"),
        (np.zeros((50, 50), np.uint8), {"batch": 0}, ValueError, "batch"),
        (np.zeros((50, 50), np.uint8), {"overlap": 800}, ValueError, "overlap"),
        (np.zeros((50, 50), np.uint8), {"tta": "sideways"}, ValueError, "tta"),
        (np.zeros((50, 50), np.uint8), {"dish": "detect"}, ValueError, "dish"),
        (np.zeros((50, 50), np.uint8), {"dish": (60, 60, 90, 90)}, ImageError, "outside"),
    ],
)
def test_bad_arguments_are_refused_clearly(
    image: np.ndarray, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        segment_image(band_model(), image, backend="torch", **kwargs)  # type: ignore[arg-type]


def test_weights_that_do_not_match_the_config_are_a_model_error() -> None:
    model = band_model()
    narrow = SavedModel(band_net(classes=3), model.config, model.path, model.sha256)
    with pytest.raises(ModelError, match="3 classes|5 classes"):
        segment_image(narrow, draw_plate().image, backend="torch")


def test_an_unknown_class_is_named_with_the_valid_ones() -> None:
    result = segment_image(band_model(), draw_plate().image, backend="torch")
    assert isinstance(result, SegmentationResult)
    with pytest.raises(ModelError, match="background, root"):
        result.prob("stem")


def test_a_colour_model_gets_three_channels_even_from_grey_input() -> None:
    import dataclasses

    import torch

    seen: list[tuple[int, ...]] = []

    class ColourProbe(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(tuple(x.shape))
            return torch.cat([x, x[:, :2]], dim=1)  # 5 "classes"

    base = band_model()
    config = dataclasses.replace(base.config, in_channels=3)
    model = SavedModel(ColourProbe(), config, base.path, "c" * 64)
    plate = draw_plate()
    segment_image(model, plate.image, backend="torch", dish=None, tile=512)
    segment_image(model, np.dstack([plate.image] * 3), backend="torch", dish=None, tile=512)
    assert all(shape[1] == 3 for shape in seen)
    two = dataclasses.replace(base.config, in_channels=2)
    with pytest.raises(ModelError, match="2 input channels"):
        segment_image(SavedModel(ColourProbe(), two, base.path, "d" * 64), plate.image)


def test_a_zero_normalisation_std_is_a_model_error() -> None:
    import dataclasses

    base = band_model()
    broken = SavedModel(
        base.module, dataclasses.replace(base.config, normalize=(0.5, 0.0)), base.path, "e" * 64
    )
    with pytest.raises(ModelError, match="std must be positive"):
        segment_image(broken, draw_plate().image, backend="torch")


def test_masks_computed_together_equal_each_mask_on_its_own() -> None:
    import dataclasses

    plate = draw_plate(seed=3)
    model = band_model(scale=0.5)
    seg = segment_image(model, plate.image, backend="torch", refine=3)
    height, width = seg.probabilities.shape[1:]
    support = np.zeros((height, width), dtype=bool)
    support[: height // 2] = True
    for variant in (seg, dataclasses.replace(seg, root_support=support, refine_radius=0)):
        together = variant.masks_at_input_size(("root", "shoot", "seed"))
        assert together["root"].any()
        for name, mask in together.items():
            assert mask.dtype == np.uint8
            assert set(np.unique(mask)) <= {0, 255}
            assert np.array_equal(mask, variant.mask_at_input_size(name)), name
