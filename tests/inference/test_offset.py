"""The map offset: a model's maps registered with the image, fitted and applied."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visionkit.evaluation.mask_fit import MIN_OFFSET_PLATES, MaskThresholdFit
from visionkit.exceptions import ModelError
from visionkit.inference.offset import estimate_offset, shift_maps, validate_offset
from visionkit.inference.segment import SegmentationResult
from visionkit.modelfolder import ModelConfig


def _centre(values: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[: values.shape[0], : values.shape[1]]
    weight = values.astype(np.float64)
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


def _blobs(size: int = 96, seed: int = 0) -> np.ndarray:
    """A few smooth blobs and lines, like a plate's foreground at working scale."""
    import cv2

    rng = np.random.default_rng(seed)
    plane = np.zeros((size, size), np.float32)
    for _ in range(6):
        x, y = rng.integers(10, size - 10, 2)
        cv2.circle(plane, (int(x), int(y)), int(rng.integers(2, 6)), 1.0, -1)
    cv2.line(plane, (5, 10), (80, 90), 1.0, 2)
    return cv2.GaussianBlur(plane, (0, 0), 0.8)


def test_shifted_maps_report_what_lies_at_p_plus_offset_at_p() -> None:
    plane = np.zeros((40, 60), np.float32)
    plane[18:23, 28:33] = 1.0  # centre (30, 20)
    maps = np.stack([plane, 1.0 - plane])
    out = shift_maps(maps, (2.0, 1.0))
    assert out.shape == maps.shape
    assert out.dtype == np.float32
    assert _centre(out[0]) == pytest.approx([28.0, 19.0], abs=0.01)
    assert shift_maps(maps, (0.0, 0.0)) is maps


def test_phase_correlation_recovers_a_sub_pixel_shift() -> None:
    truth = _blobs()
    predicted = shift_maps(truth[None], (-0.4, 0.3))[0]  # content moved by (+0.4, -0.3)
    dx, dy, response = estimate_offset(truth, predicted)
    assert (dx, dy) == pytest.approx((0.4, -0.3), abs=0.1)
    assert response > 0.5
    with pytest.raises(ValueError, match="equal 2-D"):
        estimate_offset(truth, truth[:10])


@pytest.mark.parametrize("value", ["ab", [1.0], [math.nan, 0.0], [3.0, 0.0], None])
def test_bad_offsets_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="map_offset"):
        validate_offset(value)


def test_the_model_config_keeps_and_checks_its_map_offset() -> None:
    config = ModelConfig.from_dict({"architecture": "unet-small", "map_offset": [0.4, 0.5]})
    assert config.map_offset == (0.4, 0.5)
    assert config.to_dict()["map_offset"] == [0.4, 0.5]
    assert ModelConfig.from_dict({"architecture": "unet-small"}).map_offset == (0.0, 0.0)
    with pytest.raises(ModelError, match=r"config\.json: map_offset"):
        ModelConfig.from_dict(
            {"architecture": "unet-small", "map_offset": [9, 0]}, source="config.json"
        )


def _seg(probabilities: np.ndarray, offset: tuple[float, float]) -> SegmentationResult:
    h, w = probabilities.shape[1:]
    return SegmentationResult(
        probabilities=probabilities,
        classes=("background", "root"),
        offset=(10, 20),
        crop_size=(2 * w, 2 * h),
        input_size=(2 * w + 30, 2 * h + 40),
        scale=0.5,
        map_offset=offset,
    )


def test_points_masks_and_truth_all_move_with_the_map_offset() -> None:
    root = np.zeros((40, 50), np.float32)
    root[18:23, 23:28] = 1.0  # the model put it at (25, 20) working px
    probs = np.stack([1.0 - root, root])
    plain, shifted = _seg(probs, (0.0, 0.0)), _seg(probs, (0.5, 1.0))

    point = np.array([25.0, 20.0])
    moved = shifted.to_input_xy(point) - plain.to_input_xy(point)
    assert moved == pytest.approx([-1.0, -2.0])  # offset / scale, towards the image's truth
    assert shifted.to_working_xy(shifted.to_input_xy(point)) == pytest.approx(point)

    mask_move = _centre(shifted.mask_at_input_size("root")) - _centre(
        plain.mask_at_input_size("root")
    )
    assert mask_move == pytest.approx([-1.0, -2.0], abs=0.3)

    truth = np.zeros((80 + 40, 100 + 30), np.uint8)
    truth[20 + 36 : 20 + 46, 10 + 46 : 10 + 56] = 1
    coverage_move = _centre(shifted.working_coverage(truth > 0)) - _centre(
        plain.working_coverage(truth > 0)
    )
    assert coverage_move == pytest.approx([0.5, 1.0], abs=0.05)  # truth onto the maps' grid


def test_the_fit_adds_the_median_residual_to_the_model_offset() -> None:
    fit = MaskThresholdFit(("background", "root"))
    fit.offsets = [(0.4, 0.5, 0.9), (0.5, 0.4, 0.8), (0.45, 0.45, 0.9), (3.0, -3.0, 0.1)]
    result = fit.offset_result((0.1, 0.0))
    assert result["plates_used"] == 3  # the weak correlation is left out
    assert result["residual"] == pytest.approx([0.45, 0.45])
    assert result["fitted"] == pytest.approx([0.55, 0.45])

    few = MaskThresholdFit(("background", "root"))
    few.offsets = [(0.4, 0.5, 0.9)] * (MIN_OFFSET_PLATES - 1)
    kept = few.offset_result((0.1, 0.0))
    assert kept["residual"] is None
    assert kept["fitted"] == [0.1, 0.0]


def test_a_flipped_pass_is_moved_onto_the_unflipped_pass_offset() -> None:
    from visionkit.inference.segment import _align_pass

    plane = np.zeros((40, 60), np.float32)
    plane[18:23, 28:33] = 1.0  # centre (30, 20): where the image has it
    offset = (0.5, 0.5)
    identity = shift_maps(plane[None], (-0.5, -0.5))  # the model draws it at (30.5, 20.5)
    # The hflip pass, flipped back, has it at (29.5, 20.5).
    hflip = shift_maps(plane[None], (0.5, -0.5))
    aligned = _align_pass(hflip, "hflip", offset)
    assert _centre(aligned[0]) == pytest.approx(_centre(identity[0]), abs=0.01)
    assert _align_pass(identity, "identity", offset) is identity


def test_an_offset_beyond_the_limit_is_reported_not_applied() -> None:
    fit = MaskThresholdFit(("background", "root"))
    fit.offsets = [(2.5, 0.0, 0.9)] * MIN_OFFSET_PLATES
    result = fit.offset_result((0.0, 0.0))
    assert result["residual"] == pytest.approx([2.5, 0.0])
    assert result["fitted"] == [0.0, 0.0]
    assert "beyond" in result["rejected"]
