"""Hades file names are parsed into metadata, and Hades folders open as frames."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

import numpy as np
import pytest
import tifffile

from visionkit.exceptions import SourceNotFoundError
from visionkit.sources import HadesName, open_hades, parse_hades_name
from visionkit.sources.hades import visionkit_open_source

FULL = "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png"


def test_full_hades_name_is_parsed():
    name = parse_hades_name(FULL)
    assert name == HadesName(
        raw=FULL,
        plate="035",
        experiment="43-14-ROOT1",
        date=dt.date(2023, 8, 8),
        condition="pvd_OD01_f6h1",
        replicate="03",
        processing="Fish Eye Corrected",
        suffix=".png",
    )
    assert not name.is_mask
    assert name.image_stem == FULL.removesuffix(".png")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "12_67-8-ROOT2-2024-01-30_mock_OD0_f1h2_01.png",
            {
                "plate": "12",
                "experiment": "67-8-ROOT2",
                "date": "2024-01-30",
                "condition": "mock_OD0_f1h2",
                "replicate": "01",
                "processing": None,
            },
        ),
        (
            "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected_root_mask.tif",
            {"mask": "root", "processing": "Fish Eye Corrected", "replicate": "03"},
        ),
        (
            "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03_occluded_root_mask.tif",
            {"mask": "occluded_root", "processing": None, "condition": "pvd_OD01_f6h1"},
        ),
        (
            "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03_v2_final.png",
            {"replicate": "03", "extra": ["v2", "final"]},
        ),
        (
            "035_43-14-ROOT1-2023-08-08_something odd.png",
            {"condition": None, "replicate": None, "extra": ["something odd"]},
        ),
        ("7_X1-2022-12-31.tiff", {"plate": "7", "experiment": "X1", "suffix": ".tiff"}),
        (
            "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected",
            {"processing": "Fish Eye Corrected", "suffix": ""},
        ),
    ],
)
def test_variants_are_parsed(raw, expected):
    parsed = parse_hades_name(raw)
    assert parsed is not None
    as_dict = parsed.to_dict()
    assert as_dict["raw"] == raw
    for key, value in expected.items():
        assert as_dict[key] == value, key


def test_folder_part_is_ignored():
    assert parse_hades_name(f"/data/run 1/{FULL}") == parse_hades_name(FULL)


@pytest.mark.parametrize(
    "raw",
    [
        "IMG_0042.jpg",
        "plate_001.png",
        "035_43-14-ROOT1-2023-13-45_pvd_03.png",  # no 13th month
        "43-14-ROOT1-2023-08-08_pvd_03.png",  # no plate number
        "",
    ],
)
def test_non_hades_names_give_none(raw):
    assert parse_hades_name(raw) is None


def test_mask_name_knows_its_image():
    mask = parse_hades_name(FULL.replace(".png", "_root_mask.tif"))
    assert mask is not None
    assert mask.is_mask
    assert mask.image_stem == FULL.removesuffix(".png")


def test_hades_name_is_frozen_and_json_ready():
    name = parse_hades_name(FULL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        name.plate = "036"  # type: ignore[misc]
    assert json.loads(json.dumps(name.to_dict()))["date"] == "2023-08-08"


# --- the source ------------------------------------------------------------------------


def test_hades_folder_frames_carry_parsed_names(tmp_path, make, caplog):
    make.png(tmp_path / FULL)
    other = "036_43-14-ROOT1-2023-08-08_mock_OD0_f6h1_01.png"
    make.png(tmp_path / other)
    tifffile.imwrite(tmp_path / FULL.replace(".png", "_root_mask.tif"), np.zeros((4, 4), np.uint8))
    make.png(tmp_path / "notes_plate.png")
    with caplog.at_level(logging.WARNING):
        frames = list(open_hades(str(tmp_path)))
    assert [f.name for f in frames] == [FULL, other, "notes_plate.png"]  # mask skipped silently
    assert not caplog.records
    assert frames[0].metadata["hades"]["plate"] == "035"
    assert frames[0].metadata["hades"]["processing"] == "Fish Eye Corrected"
    assert frames[1].metadata["hades"]["condition"] == "mock_OD0_f6h1"
    assert frames[2].metadata["hades"] is None  # a non-Hades name still loads
    assert frames[2].image.shape == make.gradient().shape
    assert frames[0].metadata["bit_depth"] == 8


def test_hades_source_opens_single_files_and_globs(tmp_path, make):
    make.png(tmp_path / FULL)
    single = list(open_hades(str(tmp_path / FULL)))
    assert single[0].metadata["hades"]["replicate"] == "03"
    assert len(open_hades(str(tmp_path / "*.png"))) == 1


def test_hades_source_recursive_and_missing(tmp_path, make):
    make.png(tmp_path / "day1" / FULL)
    with pytest.raises(SourceNotFoundError, match="recursive=True"):
        open_hades(str(tmp_path))
    assert len(open_hades(str(tmp_path), recursive=True, skip_bad=True, max_pixels=10**6)) == 1
    with pytest.raises(SourceNotFoundError, match="no such file or folder"):
        open_hades(str(tmp_path / "absent"))


# --- when the hades open hook claims a URI ---------------------------------------------------


def test_hook_claims_a_folder_whose_first_image_is_hades_named(tmp_path, make):
    make.png(tmp_path / FULL)
    make.png(tmp_path / "zz_other.png")
    opened = visionkit_open_source(str(tmp_path), {})
    assert opened is not None
    assert opened.name == "hades"


def test_hook_leaves_other_folders_to_the_folder_source(tmp_path, make):
    make.png(tmp_path / "plate_001.png")
    make.png(tmp_path / f"zz_{FULL}")
    assert visionkit_open_source(str(tmp_path), {}) is None


def test_hook_claims_any_existing_path_when_asked_for_hades(tmp_path, make):
    make.png(tmp_path / "plate_001.png")
    opened = visionkit_open_source(str(tmp_path), {"source": "hades"})
    assert opened is not None
    assert next(iter(opened)).metadata["hades"] is None
    assert visionkit_open_source(str(tmp_path), {"source": "folder"}) is None


def test_hook_passes_on_missing_paths_urls_and_masks(tmp_path, make):
    mask = make.png(tmp_path / FULL.replace(".png", "_root_mask.png"))
    assert visionkit_open_source(str(mask), {}) is None  # a label is not a frame
    assert visionkit_open_source(str(tmp_path / "absent"), {}) is None
    assert visionkit_open_source(f"https://example.org/{FULL}", {}) is None
