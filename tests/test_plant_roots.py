"""Root masks keep the plants' root systems and drop debris away from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    """A fresh synthetic dish crop and its root truth."""
    from visionkit.data import HadesDataset
    from visionkit.synth import generate_dataset

    folder: Path = tmp_path_factory.mktemp("plant-roots")
    generate_dataset(folder, 1, seed=4243, crop=True, progress=False)
    sample = HadesDataset(folder, require_masks=True)[0]
    return sample.image, sample.labels == 1


def test_plant_roots_only_removes_pixels_and_no_true_root(
    plate: tuple[np.ndarray, np.ndarray],
) -> None:
    from visionkit.pipeline import Predictor

    image, truth = plate
    masks = {}
    for only in (False, True):
        # Every row: the band of rows would leave the debris below the roots unsegmented.
        predictor = Predictor(backend="torch", plant_roots_only=only, skip_empty=False)
        prediction = predictor.predict(image)
        masks[only] = prediction.mask_arrays["root"] > 0
    kept, every = masks[True], masks[False]
    assert not (kept & ~every).any()  # a filter: it only removes
    removed = every & ~kept
    assert removed.sum() > 50  # this plate's fibres and specks do look like roots
    # What it removes is debris, not roots: almost none of it is true root.
    assert (removed & truth).sum() <= 0.01 * (kept & truth).sum()
    assert (kept & truth).sum() > 0.8 * (every & truth).sum()


def test_the_segmentation_carries_the_support_at_working_scale(
    plate: tuple[np.ndarray, np.ndarray],
) -> None:
    from visionkit.frame import Frame
    from visionkit.pipeline import Predictor

    image, _ = plate
    _, seg = Predictor(backend="torch").predict_with_segmentation(Frame(image, "plate.png"))
    assert seg.root_support is not None
    assert seg.root_support.shape == seg.probabilities.shape[1:]
    assert seg.root_support.dtype == bool
    assert seg.root_support.any()
    _, plain = Predictor(backend="torch", plant_roots_only=False).predict_with_segmentation(
        Frame(image, "plate.png")
    )
    assert plain.root_support is None


def test_the_segmentation_comes_with_the_support_the_landmark_search_walked(
    plate: tuple[np.ndarray, np.ndarray],
) -> None:
    from visionkit.frame import Frame
    from visionkit.landmarks import plant_root_mask
    from visionkit.pipeline import Predictor

    image, _ = plate
    _, seg = Predictor(backend="torch", masks=False, threshold=0.5).predict_with_segmentation(
        Frame(image, "plate.png")
    )
    # There as soon as the prediction is, without a mask being asked for.
    assert seg.root_support is not None
    maps = {name: seg.prob(name) for name in ("root", "shoot", "seed", "occluded_root")}
    searched = plant_root_mask(
        maps["root"],
        maps["shoot"],
        maps["seed"],
        occluded_prob=maps["occluded_root"],
        px_per_mm=seg.working_px_per_mm,
        threshold=0.5,
    )
    assert np.array_equal(seg.root_support, searched)
