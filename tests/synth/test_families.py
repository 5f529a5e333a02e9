"""Variation families: each draws what it names, labels it, and can be held out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from visionkit.synth import SynthConfig, generate_plate
from visionkit.synth.families import FAMILIES

HALF = SynthConfig().scaled(0.5)


def _plate(*families: str, index: int = 0, seed: int = 3) -> Any:
    return generate_plate(seed, SynthConfig(families=families, p_family=1.0).scaled(0.5), index)


def _cases(plate: Any) -> list[list[str]]:
    return [p["hard_cases"] for p in plate.landmarks["plants"] if p["present"]]


def test_without_families_the_base_plates_are_unchanged_byte_for_byte() -> None:
    base = generate_plate(3, HALF, 0)
    none = generate_plate(3, SynthConfig(families=(), p_family=1.0).scaled(0.5), 0)

    assert np.array_equal(base.image, none.image)
    assert "families" not in base.landmarks


def test_faint_roots_are_fainter_hairless_and_still_labelled_root() -> None:
    base, faint = generate_plate(3, HALF, 0), _plate("faint")
    assert faint.landmarks["families"] == ["faint"]
    assert all({"faint_root", "hairless"} <= set(c) for c in _cases(faint))

    def root_contrast(plate: Any) -> float:
        root = plate.masks["root"].astype(bool)
        x0, y0, x1, y1 = plate.dish_bbox
        agar = float(np.median(plate.image[y0 + (y1 - y0) // 2 : y1 - 50, x0 + 50 : x1 - 50]))
        return agar - float(np.median(plate.image[root]))

    assert faint.masks["root"].sum() > 0
    assert root_contrast(faint) < 0.7 * root_contrast(base)


def test_tiny_plants_have_roots_under_five_millimetres() -> None:
    plate = _plate("tiny")
    lengths = [p["primary_root_length_mm"] for p in plate.landmarks["plants"] if p["present"]]

    assert lengths
    assert max(lengths) <= 5.0 * 1.01
    assert all("tiny_plant" in c for c in _cases(plate))


def test_long_laterals_end_below_the_primary_tip() -> None:
    plate = _plate("long_lateral", index=1)

    assert all({"long_lateral", "lateral_below_tip"} <= set(c) for c in _cases(plate))


def test_a_shallow_crossing_sows_neighbours_close_and_makes_them_meet() -> None:
    crossed = [
        c
        for i in range(4)
        for c in _cases(_plate("shallow_crossing", index=i))
        if "shallow_crossing" in c
    ]

    assert len(crossed) >= 4  # two per plate where a pair could be made
    assert sum("crosses_neighbour" in c for c in crossed) >= len(crossed) // 2


def test_wide_draws_looks_outside_the_base_ranges() -> None:
    agars = [
        float(np.median(_plate("wide", index=i, seed=s).image[700:900, 700:900]))
        for s in range(3)
        for i in range(3)
    ]

    assert min(agars) < 175 or max(agars) > 225


def test_unknown_families_are_refused_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match="choose from.*faint"):
        SynthConfig(families=("blurry",))


def test_the_command_holds_a_family_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from visionkit.commands.synth import synth

    runner = CliRunner()
    held = runner.invoke(
        synth,
        [
            "--out",
            str(tmp_path / "val"),
            "--n",
            "1",
            "--seed",
            "2",
            "--scale",
            "0.25",
            "--family",
            "faint",
            "--family-rate",
            "1",
            "--no-progress",
        ],
    )
    train = runner.invoke(
        synth,
        [
            "--out",
            str(tmp_path / "train"),
            "--n",
            "2",
            "--seed",
            "1",
            "--scale",
            "0.25",
            "--exclude-family",
            "faint",
            "--family-rate",
            "1",
            "--no-progress",
        ],
    )
    bad = runner.invoke(
        synth, ["--out", str(tmp_path / "x"), "--n", "1", "--seed", "1", "--family", "nope"]
    )

    assert held.exit_code == 0, held.output
    assert train.exit_code == 0, train.output
    val = [json.loads(p.read_text()) for p in (tmp_path / "val").glob("*.landmarks.json")]
    trained = [json.loads(p.read_text()) for p in (tmp_path / "train").glob("*.landmarks.json")]
    assert all(d["families"] == ["faint"] for d in val)
    assert all("faint" not in d["families"] for d in trained)
    assert any(d["families"] for d in trained)
    assert bad.exit_code != 0
    assert "choose from" in bad.output
    assert set(FAMILIES) >= {"faint", "fading", "hairless", "tiny", "wide"}
