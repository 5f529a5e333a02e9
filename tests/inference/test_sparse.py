"""Sparse passes: only the band of rows holding the plants runs, grown along the roots."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.helpers.band_plugin import AGAR, ROOT
from tests.helpers.models import band_model
from tests.helpers.plates import draw_plate
from visionkit.inference.runtime import make_runtime
from visionkit.inference.segment import MULTIPLE, segment_image
from visionkit.inference.sparse import CONTEXT, SOWN_SHARE, run_sparse_pass
from visionkit.inference.tiling import TileBlender


def _wide_plate() -> np.ndarray:
    """A large dish with two short seedlings at the top: most of it is empty agar."""
    plate = draw_plate(
        1400, 1000, dish=(60, 40, 1340, 960), plants=2, root_length=200, shorter_by=0
    )
    return plate.image


def test_skipping_empty_rows_keeps_every_class_pixel_and_skips_the_agar() -> None:
    image = _wide_plate()
    model = band_model()
    inside = (80, 60, 1320, 940)  # the agar only: the band model takes the dark rim for root
    dense = segment_image(model, image, backend="torch", dish=inside, skip_empty=False)
    sparse = segment_image(model, image, backend="torch", dish=inside, skip_empty=True)
    assert not dense.sparse
    (stats,) = sparse.sparse
    assert stats.coarse_shape != (0, 0)
    assert stats.skipped > 0.3  # the agar below the short roots was never run
    height, width = sparse.probabilities.shape[1:]
    assert stats.pixels < height * width
    # The band model is pixel-wise: where tiles ran they agree with the dense pass,
    # and what was skipped is agar, background in both.
    np.testing.assert_array_equal(sparse.labels(), dense.labels())
    np.testing.assert_allclose(sparse.probabilities, dense.probabilities, atol=1e-4)


def _strip_image(height: int = 1000, width: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Normalised planes of agar with one long root in rows 200-700, and that image.

    The root ends more than :data:`~visionkit.inference.sparse.CONTEXT` rows
    above the bottom, so a band that follows it leaves agar below it.
    """
    assert CONTEXT < 300
    image = np.full((height, width), AGAR, np.uint8)
    image[200:700, 126:130] = ROOT
    return ((image.astype(np.float32) / 255.0 - 0.5) / 0.25)[None], image


def test_a_root_is_followed_from_strip_to_strip_beyond_the_gate() -> None:
    planes, _ = _strip_image()
    gate = np.zeros(planes.shape[1:], bool)
    gate[200:220, 100:150] = True  # only the root's top is known to the gate
    run = make_runtime(band_model(), "torch")
    probs, stats = run_sparse_pass(
        run, planes, classes=5, batch=2, temperature=1.0, multiple=MULTIPLE,
        tile=128, overlap=32, gate=gate, step=96,
    )  # fmt: skip
    assert stats.waves > 2
    root = probs[1] > 0.5
    assert root[200:700, 126:130].all()
    assert root.sum() == 500 * 4
    assert stats.rows[1] < 1000  # the agar below it stayed skipped
    assert (probs[0, stats.rows[1] :] == 1.0).all()
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-5)


def test_the_sown_top_runs_where_the_gate_sees_only_a_speck_lower_down() -> None:
    # A plate of late seedlings: a few pixels of root each, invisible to the
    # coarse pass, which sees only a speck in the lower half of the dish.
    image = np.full((1000, 256), AGAR, np.uint8)
    image[150:170, 60:63] = ROOT
    image[150:175, 190:193] = ROOT
    planes = ((image.astype(np.float32) / 255.0 - 0.5) / 0.25)[None]
    gate = np.zeros(planes.shape[1:], bool)
    gate[800:805, 100:105] = True
    run = make_runtime(band_model(), "torch")
    probs, stats = run_sparse_pass(
        run, planes, classes=5, batch=2, temperature=1.0, multiple=MULTIPLE,
        tile=128, overlap=32, gate=gate,
    )  # fmt: skip
    root = probs[1] > 0.5
    assert root[150:170, 60:63].all()
    assert root[150:175, 190:193].all()
    assert stats.rows[0] == 0
    assert stats.rows[1] >= 805 + CONTEXT  # the speck and its context ran too
    assert stats.rows[1] < 1000


def test_a_gate_of_the_top_third_only_runs_it_and_skips_the_rest() -> None:
    planes, _ = _strip_image()
    gate = np.zeros(planes.shape[1:], bool)
    gate[100:110, 100:150] = True  # seen high up: the band is the sown third
    run = make_runtime(band_model(), "torch")
    quiet = np.full_like(planes, planes[0, 0, 0])  # no root anywhere: nothing grows
    _, stats = run_sparse_pass(
        run, quiet, classes=5, batch=2, temperature=1.0, multiple=MULTIPLE,
        tile=128, overlap=32, gate=gate,
    )  # fmt: skip
    assert stats.rows[0] == 0
    assert math.ceil(1000 * SOWN_SHARE) <= stats.rows[1] < 1000 * SOWN_SHARE + 128
    assert stats.waves == 1


def test_a_gate_that_sees_only_the_rim_skips_nothing() -> None:
    planes, _ = _strip_image()
    gate = np.zeros(planes.shape[1:], bool)
    gate[:10] = True  # the dish's rim: no seedling is sown there
    run = make_runtime(band_model(), "torch")
    probs, stats = run_sparse_pass(
        run, planes, classes=5, batch=2, temperature=1.0, multiple=MULTIPLE,
        tile=128, overlap=32, gate=gate,
    )  # fmt: skip
    assert stats.rows == (0, 1000)
    assert stats.skipped == 0.0
    assert (probs[1] > 0.5).sum() == 500 * 4


def test_a_gate_of_the_wrong_shape_is_refused() -> None:
    run = make_runtime(band_model(), "torch")
    planes = np.zeros((1, 64, 64), np.float32)
    with pytest.raises(ValueError, match="gate must be 64 x 64"):
        run_sparse_pass(
            run, planes, classes=5, batch=1, temperature=1.0, multiple=MULTIPLE,
            gate=np.ones((32, 32), bool),
        )  # fmt: skip


def test_pixels_no_tile_covered_take_the_fill() -> None:
    blender = TileBlender(2, 8, 8, 2)
    blender.add(np.full((2, 4, 4), 0.5, np.float32), 0, 0)
    out = blender.result(fill=np.array([1.0, 0.0]))
    assert np.all(out[:, :4, :4] == 0.5)
    assert np.all(out[0, 4:, :] == 1.0)
    assert np.all(out[1, 4:, :] == 0.0)
    with pytest.raises(RuntimeError, match="already called"):
        blender.result()  # the map was normalised in place
    without = TileBlender(2, 8, 8, 2)
    without.add(np.full((2, 4, 4), 0.5, np.float32), 0, 0)
    assert np.all(without.result()[:, 4:, :] == 0.0)
    wrong = TileBlender(2, 8, 8, 2)
    wrong.add(np.full((2, 4, 4), 0.5, np.float32), 0, 0)
    with pytest.raises(ValueError, match="fill needs 2 values"):
        wrong.result(fill=np.zeros(3))
