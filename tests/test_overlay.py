"""The overlay shows masks, tips and starts where the prediction says they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers.models import band_model
from tests.helpers.plates import draw_plate
from visionkit.imageio import read_image
from visionkit.overlay import MASK_COLOURS, render_overlay, write_overlay
from visionkit.pipeline import predict
from visionkit.prediction import Prediction


@pytest.fixture(scope="module")
def plate_and_prediction() -> tuple[np.ndarray, Prediction]:
    plate = draw_plate()
    return plate.image, predict(plate.image, band_model(), backend="torch", name="p.png")


def _ring_pixels(overlay: np.ndarray, x: float, y: float, radius: int) -> np.ndarray:
    yy, xx = np.mgrid[0 : overlay.shape[0], 0 : overlay.shape[1]]
    near = np.hypot(xx - x, yy - y) <= radius
    return overlay[near]


def test_tips_are_ringed_in_yellow_and_roots_tinted(plate_and_prediction) -> None:  # type: ignore[no-untyped-def]
    image, prediction = plate_and_prediction
    overlay, scale = render_overlay(image, prediction)
    assert scale == 1.0
    assert overlay.shape == (*image.shape, 3)
    assert overlay.dtype == np.uint8
    for plant in prediction.plants:
        around = _ring_pixels(overlay, plant.tip.x, plant.tip.y, 12)
        yellow = (around[:, 0] > 200) & (around[:, 1] > 200) & (around[:, 2] < 80)
        assert yellow.sum() > 10
    root = prediction.mask_arrays["root"] > 0
    tinted = overlay[root]
    assert np.median(tinted[:, 0]) > np.median(tinted[:, 1]) + 40  # orange-red
    shoot = prediction.mask_arrays["shoot"] > 0
    assert np.median(overlay[shoot][:, 1]) > np.median(overlay[shoot][:, 0])  # green
    away = overlay[400:440, 300:340]  # bare agar stays grey
    assert np.abs(away[..., 0].astype(int) - away[..., 1]).max() < 5
    assert set(MASK_COLOURS) == {"root", "shoot", "seed"}


def test_large_frames_are_downscaled_and_marks_follow(plate_and_prediction) -> None:  # type: ignore[no-untyped-def]
    image, prediction = plate_and_prediction
    overlay, scale = render_overlay(image, prediction, max_side=320)
    assert scale == pytest.approx(0.5)
    assert overlay.shape == (240, 320, 3)
    tip = prediction.plants[2].tip
    around = _ring_pixels(overlay, tip.x * scale, tip.y * scale, 8)
    assert ((around[:, 0] > 200) & (around[:, 2] < 80)).sum() > 5


def test_missing_tips_are_not_drawn_and_the_caption_darkens_the_top() -> None:
    image = np.full((300, 400), 200, np.uint8)
    prediction = predict(image, band_model(), backend="torch")
    overlay, _ = render_overlay(image, prediction)
    body = overlay[80:]
    yellow = (body[..., 0] > 200) & (body[..., 1] > 200) & (body[..., 2] < 80)
    assert not yellow.any()
    assert overlay[2:10].mean() < 120  # caption bar over the light image


def test_write_overlay_writes_a_png(plate_and_prediction, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    image, prediction = plate_and_prediction
    path = write_overlay(tmp_path / "out" / "p_overlay.png", image, prediction)
    pixels, _ = read_image(path)
    assert pixels.shape == (*image.shape, 3)


def test_colour_input_is_drawn_on_directly(plate_and_prediction) -> None:  # type: ignore[no-untyped-def]
    image, prediction = plate_and_prediction
    rgba = np.dstack([image, image, image, np.full_like(image, 255)])
    overlay, _ = render_overlay(rgba, prediction)
    assert overlay.shape == (*image.shape, 3)


HADES_NAME = "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png"


def _full_frame_prediction() -> tuple[np.ndarray, Prediction]:
    from visionkit.prediction import Keypoint, ModelInfo, Plant

    plants = [Plant(i, Keypoint(600.0 * i, 2000.0, 0.9), None) for i in range(1, 4)]
    plants += [Plant(4, None, None, reason="no root found below the shoot"), Plant(5, None, None)]
    prediction = Prediction(
        image=HADES_NAME,
        width=4202,
        height=3006,
        model=ModelInfo("root-unet", "2", "ab" * 32),
        dish=None,
        plants=plants,
        confidence={"image": 0.93},
        warnings=["root tip not found for 2 of 5 plants; they are listed with a reason"],
    )
    return np.full((3006, 4202), 180, np.uint8), prediction


@pytest.mark.parametrize("max_side", [2048, 1024, 640])
def test_a_long_hades_name_never_pushes_the_scale_off_the_caption(max_side: int) -> None:
    from visionkit.overlay import _caption_groups, _text_width, caption_lines

    image, prediction = _full_frame_prediction()
    overlay, scale = render_overlay(image, prediction, max_side=max_side)
    width = overlay.shape[1]
    size = max(0.45, max(overlay.shape[:2]) / 1600.0)
    lines, fitted = caption_lines(_caption_groups(prediction, scale), width=width - 8, size=size)
    assert all(_text_width(line, fitted) <= width - 8 for line in lines)
    text = "\n".join(lines)
    assert f"scale {scale:.3g}" in text
    assert "plants 5, tips 3" in text
    assert "no tip: plant 4, 5" in text
    assert "Fish Eye Corrected" in text or "..." in text


def _covered_by_brute_force(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Picture pixels that any set mask pixel overlaps, by comparing every pair's extent."""
    width, height = size
    sx, sy = width / mask.shape[1], height / mask.shape[0]
    out = np.zeros((height, width), bool)
    for y, x in zip(*np.nonzero(mask), strict=True):
        for py in range(height):
            for px in range(width):
                x_overlap = min((x + 1) * sx, px + 1) - max(x * sx, px)
                y_overlap = min((y + 1) * sy, py + 1) - max(y * sy, py)
                if x_overlap > 1e-9 and y_overlap > 1e-9:
                    out[py, px] = True
    return np.flatnonzero(out)


@pytest.mark.parametrize("size", [(23, 17), (16, 12), (7, 31), (40, 30)])
def test_covered_pixels_are_those_a_set_pixel_overlaps(size: tuple[int, int]) -> None:
    from visionkit.overlay import SPARSE_SHARE, covered_pixels

    mask = np.zeros((30, 40), np.uint8)
    mask[np.random.default_rng(4).random(mask.shape) < 0.005] = 255
    mask[9:21, 33] = 1  # a root one pixel wide stays unbroken
    assert mask.astype(bool).mean() < SPARSE_SHARE, "sparse: the set pixels are mapped"
    assert np.array_equal(covered_pixels(mask, size), _covered_by_brute_force(mask, size))
    assert covered_pixels(np.zeros((30, 40), np.uint8), size).size == 0


def test_a_dense_mask_is_shrunk_whole_and_covers_what_it_overlaps() -> None:
    from visionkit.overlay import SPARSE_SHARE, covered_pixels

    mask = np.zeros((30, 40), np.uint8)
    mask[np.random.default_rng(5).random(mask.shape) < 0.1] = 1  # far above SPARSE_SHARE
    assert mask.astype(bool).mean() > SPARSE_SHARE
    for size in ((23, 17), (16, 12), (7, 31)):
        assert np.array_equal(covered_pixels(mask, size), _covered_by_brute_force(mask, size))


def test_masks_are_tinted_on_a_screen_sized_overlay_of_a_full_frame() -> None:
    image, prediction = _full_frame_prediction()
    root = np.zeros(image.shape, np.uint8)
    root[1000:2500, 3001] = 255  # one input pixel wide: every overlay row it crosses is tinted
    prediction.mask_arrays = {"root": root}
    overlay, scale = render_overlay(image, prediction)
    column = overlay[round(1000 * scale) + 1 : round(2500 * scale) - 1, int(3001 * scale)]
    assert (column[:, 0].astype(int) - column[:, 1] > 60).all(), "orange-red all along"
    assert overlay[round(1500 * scale), int(3001 * scale) + 3].tolist() == [180, 180, 180]
