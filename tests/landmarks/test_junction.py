"""extend_to_junction: a root's start is carried back to where it meets the hypocotyl."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.landmarks.junction import MAX_EXTENSION_MM, extend_to_junction

PPM = 10.0  # map pixels per mm, the working scale


def _maps(size: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.zeros((size, size), np.float32),
        np.zeros((size, size), np.float32),
        np.zeros((size, size), np.float32),
    )


def _down(x: float, y0: float, y1: float) -> np.ndarray:
    """A straight downward path from ``(x, y0)`` to ``(x, y1)``, one point per pixel."""
    ys = np.arange(y0, y1 + 1, dtype=np.float64)
    return np.stack([np.full_like(ys, x), ys], axis=1)


def _extend(path: np.ndarray, root, shoot, seed) -> np.ndarray:
    return extend_to_junction(path, root=root, shoot=shoot, seed=seed, px_per_mm=PPM)


def test_the_start_moves_up_through_the_root_to_the_first_hypocotyl_pixel() -> None:
    root, shoot, seed = _maps()
    shoot[20:40, 59:62] = 0.9  # the hypocotyl, ending at row 39
    root[40:100, 59:62] = 0.9  # the root mask begins right below it
    path = _down(60, 43, 99)  # a skeleton stops short of the mask's end

    out = _extend(path, root, shoot, seed)

    assert out[0] == pytest.approx([60.0, 39.5], abs=0.6)
    assert np.array_equal(out[1:], path)


def test_under_a_seed_coat_the_junction_is_the_middle_of_its_crossing() -> None:
    root, shoot, seed = _maps()
    shoot[10:30, 59:62] = 0.9
    seed[30:40, 56:65] = 0.9  # a seed coat over the junction, rows 30-39
    root[40:100, 59:62] = 0.9
    path = _down(60, 42, 99)

    out = _extend(path, root, shoot, seed)

    # The walk enters the coat at row ~39.5 and meets the shoot at ~29.5.
    assert out[0][1] == pytest.approx(34.5, abs=1.0)
    assert out[0][0] == pytest.approx(60.0, abs=0.1)


def test_a_root_ending_on_agar_keeps_its_start() -> None:
    root, shoot, seed = _maps()
    root[50:100, 59:62] = 0.9
    path = _down(60, 50, 99)  # the path begins at the mask's very end

    out = _extend(path, root, shoot, seed)

    assert float(np.hypot(*(out[0] - path[0]))) <= 0.5  # at most to the pixel's edge
    assert np.array_equal(out[-len(path) :], path)


def test_the_walk_never_goes_further_than_the_limit() -> None:
    root, shoot, seed = _maps()
    root[0:100, 59:62] = 0.9  # root all the way up, no shoot in reach
    path = _down(60, 60, 99)

    out = _extend(path, root, shoot, seed)

    moved = float(np.hypot(*(out[0] - path[0])))
    assert moved == pytest.approx(MAX_EXTENSION_MM * PPM, abs=0.01)


def test_the_walk_follows_the_roots_own_direction() -> None:
    root, shoot, seed = _maps()
    # A root leaving its plant at 45 degrees, down and to the right.
    for k in range(0, 60):
        root[30 + k : 33 + k, 30 + k : 33 + k] = 0.9
    shoot[20:31, 20:31] = 0.9
    path = np.stack([np.arange(36.0, 80.0), np.arange(36.0, 80.0)], axis=1) + 1.0

    out = _extend(path, root, shoot, seed)

    step = out[0] - path[0]
    assert step[0] == pytest.approx(step[1], abs=0.01)  # straight back up the diagonal
    assert step[0] < -4.0
    assert shoot[round(float(out[0][1])), round(float(out[0][0]))] >= 0.5


@pytest.mark.parametrize(
    "path",
    [np.zeros((0, 2)), np.array([[5.0, 5.0]]), np.array([[5.0, 5.0], [5.0, 5.0]])],
)
def test_degenerate_paths_come_back_unchanged(path: np.ndarray) -> None:
    root, shoot, seed = _maps(10)
    out = extend_to_junction(path, root=root, shoot=shoot, seed=seed, px_per_mm=PPM)
    assert np.array_equal(out, path)
    assert out is not path


def test_the_default_model_puts_starts_at_the_junction_on_a_fresh_synthetic_plate(
    tmp_path,
) -> None:
    """End to end: the skeleton alone left starts a median 0.37 mm down the root."""
    from visionkit.data import HadesDataset
    from visionkit.frame import Frame
    from visionkit.pipeline import Predictor
    from visionkit.synth import generate_dataset

    generate_dataset(tmp_path, 1, seed=4243, crop=True, progress=False)
    sample = HadesDataset(tmp_path)[0]
    assert sample.landmarks is not None
    truth = [t for t in sample.landmarks["plants"] if t.get("present")]
    mm_per_px = sample.landmarks["dish"]["mm_per_px"]
    prediction = Predictor(backend="torch").predict(Frame(sample.image, "plate.png"))
    errors = []
    for plant in prediction.plants:
        if plant.start is None or plant.tip is None:
            continue
        tip = np.array([plant.tip.x, plant.tip.y])
        match = min(
            truth, key=lambda t: float(np.hypot(t["tip"]["x"] - tip[0], t["tip"]["y"] - tip[1]))
        )
        errors.append(
            mm_per_px
            * float(
                np.hypot(plant.start.x - match["start"]["x"], plant.start.y - match["start"]["y"])
            )
        )
    assert len(errors) >= 4
    assert float(np.median(errors)) <= 0.25, errors
