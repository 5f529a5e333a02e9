"""Masks <-> label maps, with seed > shoot > root > occluded_root on overlaps."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.data.labels import labels_to_masks, masks_to_labels


def _full(value: int) -> np.ndarray:
    return np.full((2, 3), value, np.uint8)


def test_each_class_gets_its_index_plus_one() -> None:
    masks = {c: np.zeros((3, 4), np.uint8) for c in ("root", "shoot", "seed", "occluded_root")}
    masks["root"][0, 0] = 1
    masks["shoot"][1, 1] = 1
    masks["seed"][2, 2] = 1
    masks["occluded_root"][2, 3] = 255
    labels = masks_to_labels(masks)
    assert labels.dtype == np.uint8
    assert labels.tolist() == [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 4]]


def test_overlaps_follow_the_documented_priority() -> None:
    classes = ("root", "shoot", "seed", "occluded_root")
    assert masks_to_labels({"root": _full(1), "seed": _full(1)}, classes)[0, 0] == 3
    assert masks_to_labels({"root": _full(1), "shoot": _full(1)}, classes)[0, 0] == 2
    assert masks_to_labels({"seed": _full(1), "shoot": _full(1)}, classes)[0, 0] == 3
    assert masks_to_labels({"occluded_root": _full(1), "root": _full(1)}, classes)[0, 0] == 1


def test_priority_does_not_depend_on_label_order() -> None:
    labels = masks_to_labels({"root": _full(1), "seed": _full(1)}, ("seed", "root"))
    assert labels[0, 0] == 1  # seed is label 1 here and still wins


def test_round_trip_without_overlap() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (16, 16)).astype(np.uint8)
    masks = labels_to_masks(labels)
    assert set(masks) == {"root", "shoot", "seed", "occluded_root"}
    assert all(m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1} for m in masks.values())
    assert np.array_equal(masks_to_labels(masks), labels)


def test_missing_classes_count_as_empty_and_unknown_ones_are_ignored() -> None:
    labels = masks_to_labels({"root": _full(1), "leaf": _full(1)}, ("shoot", "root"))
    assert np.all(labels == 2)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="no mask of the classes"):
        masks_to_labels({"leaf": _full(1)})
    with pytest.raises(ValueError, match=r"'shoot' has shape \(3, 3\)"):
        masks_to_labels({"root": _full(1), "shoot": np.zeros((3, 3), np.uint8)})
    with pytest.raises(ValueError, match="distinct"):
        masks_to_labels({"root": _full(1)}, ("root", "root"))
