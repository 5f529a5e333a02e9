"""Edge-aware upsampling puts mask edges on the image's edges."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.inference.refine import guided_upsample


def _blurry_half_resolution(edge: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A full-resolution image dark left of column ``edge``, and a soft map of it at half size."""
    import cv2

    guide = np.full((size, size), 200, np.uint8)
    guide[:, :edge] = 60
    truth = (guide < 128).astype(np.float32)
    small = cv2.resize(truth, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 1.5)  # a network's soft edge
    return guide, 2.0 * small - 1.0  # a margin in [-1, 1]


@pytest.mark.parametrize("edge", [29, 30, 31])
def test_the_upsampled_edge_lands_on_the_image_edge(edge: int) -> None:
    import cv2

    guide, margin = _blurry_half_resolution(edge)
    refined = guided_upsample(margin, guide, radius=3) > 0
    plain = cv2.resize(margin, guide.shape[::-1], interpolation=cv2.INTER_LINEAR) > 0
    truth = guide < 128
    assert np.array_equal(refined, truth)
    assert (plain != truth).sum() >= (refined != truth).sum()


def test_stacks_keep_their_channels_and_the_guide_may_be_float() -> None:
    guide, margin = _blurry_half_resolution(30)
    stack = np.stack([margin, -margin])
    out = guided_upsample(stack, guide.astype(np.float32) / 255.0)
    assert out.shape == (2, 64, 64)
    assert out.dtype == np.float32
    assert np.array_equal(out[0] > 0, ~(out[1] > 0))


def test_a_smoothed_guide_keeps_a_thin_root_on_a_noisy_plate_from_fraying() -> None:
    """A faint 4 px root under pixel noise: the raw guide frays its edges, a smoothed one not."""
    import cv2

    size = 96
    rng = np.random.default_rng(3)
    truth = np.zeros((size, size), bool)
    truth[:, 46:50] = True
    clean = np.where(truth, 170.0, 190.0)
    guide = np.clip(clean + rng.normal(0, 4, clean.shape), 0, 255).astype(np.uint8)
    small = cv2.resize(
        truth.astype(np.float32), (size // 2, size // 2), interpolation=cv2.INTER_AREA
    )
    margin = 2.0 * cv2.GaussianBlur(small, (0, 0), 1.0) - 1.0

    def wrong(sigma: float) -> int:
        mask = guided_upsample(margin, guide, radius=3, guide_sigma=sigma) > 0
        return int((mask != truth).sum())

    assert wrong(0.7) < 0.6 * wrong(0.0), (wrong(0.7), wrong(0.0))


@pytest.mark.parametrize(
    ("maps", "guide", "kwargs", "message"),
    [
        (np.zeros((8, 8)), np.zeros((4, 4), np.uint8), {}, "smaller than the maps"),
        (np.zeros((2, 2, 8, 8)), np.zeros((16, 16), np.uint8), {}, "must be"),
        (np.zeros((8, 8)), np.zeros((16, 16, 3), np.uint8), {}, "must be"),
        (np.zeros((8, 8)), np.zeros((16, 16), np.uint8), {"radius": 0}, "radius"),
        (np.zeros((8, 8)), np.zeros((16, 16), np.uint8), {"eps": 0.0}, "eps"),
        (np.zeros((8, 8)), np.zeros((16, 16), np.uint8), {"guide_sigma": -1.0}, "guide_sigma"),
    ],
)
def test_bad_shapes_and_settings_are_refused(
    maps: np.ndarray, guide: np.ndarray, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        guided_upsample(maps, guide, **kwargs)


def test_refined_masks_of_a_synthetic_plate_beat_linear_upsampling(tmp_path) -> None:
    """The default model on a fresh synthetic dish: refinement raises every class's F1.

    Thin roots gain most; shoots, wide and with the map offset applied, gain least.
    """
    from visionkit.data import HadesDataset
    from visionkit.inference.segment import segment_image
    from visionkit.modelfolder import load_model
    from visionkit.pipeline import DEFAULT_MODEL_DIR
    from visionkit.synth import generate_dataset

    generate_dataset(tmp_path, 1, seed=4242, crop=True, progress=False)
    sample = HadesDataset(tmp_path, require_masks=True)[0]
    model = load_model(DEFAULT_MODEL_DIR)
    for name, label, gain in (("root", 1, 0.03), ("shoot", 2, 0.005), ("seed", 3, 0.02)):
        truth = sample.labels == label
        scores = []
        for radius in (0, 3):
            seg = segment_image(model, sample.image, refine=radius, backend="torch")
            mask = seg.mask_at_input_size(name) > 0
            tp = (mask & truth).sum()
            scores.append(2 * tp / (mask.sum() + truth.sum()))
        assert scores[1] > scores[0] + gain, (name, scores)


def _sparse_scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy guide with two dark strokes, and a soft margin of them at a non-integer scale."""
    import cv2

    rng = np.random.default_rng(seed)
    guide = np.clip(rng.normal(200, 3, (301, 257)), 0, 255).astype(np.uint8)
    cv2.line(guide, (40, 30), (60, 280), 90, 3)
    cv2.circle(guide, (200, 80), 12, 120, -1)
    truth = (guide < 160).astype(np.float32)
    small = cv2.resize(truth, (128, 150), interpolation=cv2.INTER_AREA)
    margin = 2.0 * cv2.GaussianBlur(small, (0, 0), 1.0) - 1.0
    return guide, np.stack([margin, margin - 0.3, np.full_like(margin, -1.0)])


@pytest.mark.parametrize("block", [8, 16, 32])
def test_block_masks_match_the_full_upsampling(block: int) -> None:
    from visionkit.inference.refine import guided_masks

    guide, maps = _sparse_scene()
    thresholds = [0.0, -0.05, 0.0]
    full = guided_masks(maps, guide, thresholds, guide_sigma=0.7)
    blocks = guided_masks(maps, guide, thresholds, guide_sigma=0.7, block=block)
    assert full[0].any()
    assert full[1].any()
    assert not full[2].any()
    assert (blocks != full).sum() <= 2  # fixed-point rounding right at the threshold
    expected = np.where(guided_upsample(maps, guide, guide_sigma=0.7)[1] > -0.05, 255, 0)
    assert np.array_equal(full[1], expected)


def test_only_blocks_near_a_class_are_active() -> None:
    from visionkit.inference.refine import active_blocks

    values = np.full((64, 64), -1.0, np.float32)
    values[5, 5] = 0.9
    active = active_blocks(values, 0.0, radius=3, block=16)
    assert active.shape == (4, 4)
    assert active[0, 0]
    assert active.sum() == 1
    assert not active_blocks(np.full((64, 64), -1.0, np.float32), 0.0, 3, 16).any()
