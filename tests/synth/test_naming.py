"""Synthetic plate names are Hades names, unique within a data set."""

from __future__ import annotations

import pytest

from visionkit.sources.hades import parse_hades_name
from visionkit.synth.naming import MASK_SUFFIX, plate_name


def test_names_parse_as_hades_frames() -> None:
    name = plate_name(123, 7)
    parsed = parse_hades_name(name)
    assert parsed is not None
    assert parsed.plate == "008"
    assert parsed.experiment.endswith("-ROOT1")
    assert parsed.condition is not None
    assert parsed.condition.startswith("synth_")
    assert parsed.processing == "Fish Eye Corrected"
    assert parsed.suffix == ".png"
    assert not parsed.is_mask


@pytest.mark.parametrize("mask", ["root", "shoot", "seed", "occluded_root"])
def test_mask_names_parse_with_their_class(mask: str) -> None:
    stem = plate_name(1, 0).removesuffix(".png")
    parsed = parse_hades_name(stem + MASK_SUFFIX.format(mask))
    assert parsed is not None
    assert parsed.mask == mask
    assert parsed.image_stem == stem


def test_names_are_unique_and_deterministic() -> None:
    names = [plate_name(42, i) for i in range(3000)]
    assert len(set(names)) == len(names)
    assert names == [plate_name(42, i) for i in range(3000)]
    assert plate_name(42, 0) != plate_name(43, 0)


def test_negative_index_is_refused() -> None:
    with pytest.raises(ValueError, match="index"):
        plate_name(1, -1)
