"""The ``ot2`` adapter's options: deck layout, volumes and heights, checked once.

Options arrive as keyword arguments, from Python or as text from a command
line (``volume_ul=2``), so every value is coerced here and a bad one fails
with an :class:`~visionkit.exceptions.AdapterError` that names the option.
The defaults fit a plain OT-2 with labware from Opentrons' standard library
(nothing to download): a P20 single-channel GEN2 pipette, 20 µL tips in slot 1
and the inoculum in well A1 of a NEST 12-well reservoir in slot 2.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from visionkit.exceptions import AdapterError

__all__ = ["DECK_LIMITS_MM", "Ot2Options"]

#: The OT-2 deck's reachable box in millimetres (x, y, z), from slot 1's
#: corner; a target outside it means a wrong calibration, never a plant.
DECK_LIMITS_MM: tuple[tuple[float, float], ...] = ((0.0, 450.0), (0.0, 400.0), (0.0, 220.0))

_MOUNTS = ("left", "right")
_NEW_TIP = ("always", "once")
_SLOTS = tuple(str(n) for n in range(1, 12))


@dataclass(frozen=True)
class Ot2Options:
    """Everything the ``ot2`` adapter can be told.

    Attributes:
        calibration: a calibration file (YAML/JSON) or preset name (``"ot2"``)
            applied to plants that have no robot point in ``frame``; ``None``
            skips such plants with a warning.
        frame: the robot frame the targets must be in (``RobotPoint.frame``).
        volume_ul: inoculum dispensed at each tip (µL).
        pipette: OT-2 pipette name, e.g. ``"p20_single_gen2"``.
        mount: ``"left"`` or ``"right"``.
        tiprack: tip rack load name, e.g. ``"opentrons_96_tiprack_20ul"``.
        tiprack_slot: deck slot of the tip rack (``"1"`` .. ``"11"``).
        source_labware: load name of the labware holding the inoculum.
        source_slot: deck slot of that labware.
        source_well: well to aspirate from, e.g. ``"A1"``.
        dispense_height_mm: how far above the target's z to dispense.
        travel_height_mm: how far above the target's z to approach from, so
            the tip comes straight down onto the agar.
        new_tip: ``"always"`` (a fresh tip per plant, no carry-over between
            plants) or ``"once"`` (one tip for the whole plate).
        min_confidence: plants whose tip confidence is below this are left out.
        api_level: the Opentrons Python API level the protocol declares.
    """

    calibration: str | None = None
    frame: str = "ot2"
    volume_ul: float = 2.0
    pipette: str = "p20_single_gen2"
    mount: str = "right"
    tiprack: str = "opentrons_96_tiprack_20ul"
    tiprack_slot: str = "1"
    source_labware: str = "nest_12_reservoir_15ml"
    source_slot: str = "2"
    source_well: str = "A1"
    dispense_height_mm: float = 1.0
    travel_height_mm: float = 10.0
    new_tip: str = "always"
    min_confidence: float = 0.0
    api_level: str = "2.15"

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> Ot2Options:
        """Check and coerce adapter options.

        Raises:
            AdapterError: an unknown option (the message lists the valid
                ones) or a value of the wrong kind or out of range.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise AdapterError(
                f"unknown ot2 adapter option(s) {', '.join(unknown)}; "
                f"valid options are: {', '.join(sorted(fields))}"
            )
        values: dict[str, Any] = {}
        for name, value in options.items():
            default = fields[name].default
            if name == "calibration":
                values[name] = None if value in (None, "") else _text(name, value)
            elif isinstance(default, float):
                values[name] = _number(name, value)
            else:
                values[name] = _text(name, value)
        made = cls(**values)
        made._check()
        return made

    def _check(self) -> None:
        if not 0 < self.volume_ul <= 1000:
            _bad("volume_ul", self.volume_ul, "a volume in µL above 0 (and at most 1000)")
        if self.mount not in _MOUNTS:
            _bad("mount", self.mount, f"one of {', '.join(_MOUNTS)}")
        if self.new_tip not in _NEW_TIP:
            _bad("new_tip", self.new_tip, f"one of {', '.join(_NEW_TIP)}")
        for name in ("tiprack_slot", "source_slot"):
            if getattr(self, name) not in _SLOTS:
                _bad(name, getattr(self, name), "a deck slot from 1 to 11 (12 is the trash)")
        if self.tiprack_slot == self.source_slot:
            _bad("source_slot", self.source_slot, "a slot other than the tip rack's")
        for name in ("dispense_height_mm", "travel_height_mm"):
            if getattr(self, name) < 0:
                _bad(name, getattr(self, name), "a height in mm of 0 or more")
        if self.travel_height_mm < self.dispense_height_mm:
            _bad("travel_height_mm", self.travel_height_mm, "at least dispense_height_mm")
        if not 0.0 <= self.min_confidence <= 1.0:
            _bad("min_confidence", self.min_confidence, "a number from 0 to 1")
        major, _, minor = self.api_level.partition(".")
        if major != "2" or not minor.isdigit():
            _bad("api_level", self.api_level, 'an Opentrons API level "2.x", e.g. "2.15"')

    def labware(self) -> dict[str, Any]:
        """The deck layout, as written into the protocol and its JSON."""
        return {
            "pipette": self.pipette,
            "mount": self.mount,
            "tiprack": self.tiprack,
            "tiprack_slot": self.tiprack_slot,
            "source_labware": self.source_labware,
            "source_slot": self.source_slot,
            "source_well": self.source_well,
        }


def _bad(name: str, value: Any, wanted: str) -> NoReturn:
    raise AdapterError(f"ot2 adapter option {name}={value!r} is invalid: give {wanted}")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        _bad(name, value, "a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        _bad(name, value, "a number")
    if not math.isfinite(number):
        _bad(name, value, "a finite number")
    return number


def _text(name: str, value: Any) -> str:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        _bad(name, value, "text")
    text = str(value).strip()
    if not text or any(c in text for c in "\r\n"):
        _bad(name, value, "a non-empty single line of text")
    return text
