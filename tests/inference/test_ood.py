"""The image-level out-of-distribution score flags what is not a Hades plate."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from visionkit.data.dish import detect_dish
from visionkit.inference.ood import HADES_RANGES, WARN_ABOVE, _thumbnail, ood_score

REAL = Path("/work/shared/real/hades_dish_crop.png")


def _score(image: np.ndarray) -> float:
    dish = detect_dish(image)
    return ood_score(image, dish.bbox, dish_found=dish.found).score


def test_the_real_hades_crop_looks_in_distribution() -> None:
    if not REAL.exists():
        pytest.skip(f"{REAL} is not on this machine")
    from visionkit.imageio import read_image

    image, _ = read_image(REAL)
    report = ood_score(image, detect_dish(image).bbox)
    assert report.score < 0.2, report.reasons
    assert not report.flagged
    assert report.confidence > 0.8


@pytest.mark.parametrize("scale", [0.15, 0.3])
def test_synthetic_plates_look_in_distribution(scale: float) -> None:
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(3, SynthConfig().scaled(scale))
    assert _score(plate.image) < 0.2


def _photo() -> np.ndarray:
    """A colourful, textured scene: nothing like a plate."""
    rng = np.random.default_rng(4)
    small = rng.integers(0, 255, (12, 16, 3)).astype(np.uint8)
    return cv2.resize(small, (400, 300), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize(
    ("name", "image", "reason"),
    [
        ("blank", np.full((300, 400), 200, np.uint8), "sensor noise"),
        ("black", np.zeros((300, 400), np.uint8), "agar grey level"),
        ("photo", _photo(), "colourfulness"),
        ("grey photo", cv2.cvtColor(_photo(), cv2.COLOR_RGB2GRAY), "spread"),
    ],
)
def test_foreign_images_are_flagged_with_a_reason(
    name: str, image: np.ndarray, reason: str
) -> None:
    dish = detect_dish(image)
    report = ood_score(image, dish.bbox, dish_found=dish.found)
    assert report.score > WARN_ABOVE, name
    assert report.flagged
    assert any(reason in r for r in report.reasons), report.reasons
    assert "out-of-distribution score" in report.warning()
    assert 0.0 <= report.score <= 1.0


def test_a_model_can_bring_its_own_ranges() -> None:
    image = np.zeros((300, 400), np.uint8)
    image[20:280, 70:330] = 90  # a dark-agar plate from another lab
    image = np.clip(image + np.random.default_rng(0).normal(0, 2, image.shape), 0, 255)
    image = image.astype(np.uint8)
    bbox = detect_dish(image).bbox
    assert ood_score(image, bbox).flagged
    assert not ood_score(image, bbox, ranges={"agar": [60, 120, 20]}).flagged
    assert set(HADES_RANGES) >= {"agar", "noise", "contrast"}


def test_empty_region_is_out_of_distribution() -> None:
    report = ood_score(np.zeros((10, 10), np.uint8), (5, 5, 5, 5), dish_found=False)
    assert report.flagged
    assert "no dish found" in report.reasons


def test_a_colour_plate_is_measured_on_the_grey_image_dish_detection_sees() -> None:
    """One grey conversion (OpenCV's luminance weights) for the OOD check and the dish."""
    from visionkit.imageio import to_grey
    from visionkit.inference.ood import image_statistics

    rng = np.random.default_rng(0)
    agar = np.array([230, 150, 40], np.uint8)  # a yellowish agar: mean 140, luminance 163
    image = np.clip(agar + rng.normal(0, 2, (200, 200, 3)), 0, 255).astype(np.uint8)
    expected = float(np.median(to_grey(image)[::4, ::4]))
    assert image_statistics(image, None)["agar"] == expected
    assert expected == pytest.approx(0.299 * 230 + 0.587 * 150 + 0.114 * 40, abs=1.5)


def test_the_fast_thumbnail_matches_an_area_resize() -> None:
    from visionkit.synth import SynthConfig, generate_plate

    frame = generate_plate(5, SynthConfig()).image  # a full 4202 x 3006 frame
    thumb = _thumbnail(frame)
    assert thumb.shape == (256, 256)
    direct = cv2.resize(frame, (256, 256), interpolation=cv2.INTER_AREA)
    difference = np.abs(thumb.astype(np.float32) - direct)
    assert difference.mean() < 1.0
    assert np.percentile(difference, 99) < 8
