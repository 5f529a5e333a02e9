"""The ot2 adapter's options: defaults, coercion from text, and errors naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
from visionkit_ot2.options import Ot2Options

from visionkit.exceptions import AdapterError


def test_defaults_describe_a_p20_with_tips_in_slot_1_and_inoculum_in_slot_2() -> None:
    options = Ot2Options.from_mapping({})
    assert options.labware() == {
        "pipette": "p20_single_gen2",
        "mount": "right",
        "tiprack": "opentrons_96_tiprack_20ul",
        "tiprack_slot": "1",
        "source_labware": "nest_12_reservoir_15ml",
        "source_slot": "2",
        "source_well": "A1",
    }
    assert options.volume_ul == 2.0
    assert options.calibration is None


def test_values_typed_on_a_command_line_are_coerced() -> None:
    options = Ot2Options.from_mapping(
        {
            "volume_ul": "5",
            "tiprack_slot": 4,
            "min_confidence": "0.5",
            "calibration": Path("c.yaml"),
        }
    )
    assert options.volume_ul == 5.0
    assert options.tiprack_slot == "4"
    assert options.min_confidence == 0.5
    assert options.calibration == "c.yaml"


def test_empty_calibration_means_none() -> None:
    assert Ot2Options.from_mapping({"calibration": ""}).calibration is None


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(AdapterError, match="volume_ml") as info:
        Ot2Options.from_mapping({"volume_ml": 2})
    assert "volume_ul" in str(info.value)
    assert "calibration" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "wanted"),
    [
        ("volume_ul", 0, "above 0"),
        ("volume_ul", "two", "a number"),
        ("volume_ul", True, "a number"),
        ("volume_ul", None, "a number"),
        ("volume_ul", "nan", "finite"),
        ("mount", "middle", "left, right"),
        ("new_tip", "never", "always, once"),
        ("tiprack_slot", "12", "slot from 1 to 11"),
        ("source_slot", "1", "other than the tip rack"),
        ("dispense_height_mm", -1, "0 or more"),
        ("travel_height_mm", 0.5, "at least dispense_height_mm"),
        ("min_confidence", 1.5, "from 0 to 1"),
        ("api_level", "3.0", "2.x"),
        ("pipette", ["p20"], "text"),
        ("source_well", "A1\nimport os", "single line"),
        ("frame", "  ", "non-empty"),
    ],
)
def test_bad_value_names_the_option_and_what_to_give(name: str, value: object, wanted: str) -> None:
    with pytest.raises(AdapterError, match=name) as info:
        Ot2Options.from_mapping({name: value})
    assert wanted in str(info.value)
