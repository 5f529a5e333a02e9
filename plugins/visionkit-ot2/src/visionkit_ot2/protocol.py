"""Write the text of an Opentrons OT-2 Python protocol that inoculates root tips.

The protocol is plain, readable Python an operator can check before a run:
the deck layout, volume and heights sit at the top as constants, each target
is one line with the pixel it came from, and the plants left out are listed
as comments (and announced with ``protocol.comment`` during the run).

Targets are absolute deck coordinates in millimetres, so the protocol moves
with ``types.Location(types.Point(x, y, z), None)`` instead of a well: a petri
dish on the deck is not a standard labware. For each target it picks up a tip
(unless ``new_tip="once"``), aspirates the inoculum, comes down from
``travel_height_mm`` above the tip, dispenses at ``dispense_height_mm`` above
it, rises again and drops the tip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from visionkit_ot2.options import Ot2Options

__all__ = ["Skipped", "Target", "render_protocol"]


@dataclass(frozen=True)
class Target:
    """A root tip to inoculate, in OT-2 deck millimetres.

    Attributes:
        plant: the plant's number in the prediction (1..N, left to right).
        x_mm, y_mm, z_mm: the deck position of the root tip.
        pixel_x, pixel_y: where the tip is in the input image.
        confidence: the tip's confidence from the prediction.
    """

    plant: int
    x_mm: float
    y_mm: float
    z_mm: float
    pixel_x: float
    pixel_y: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """The target as written to ``<stem>.ot2.json``."""
        return {
            "plant": self.plant,
            "x_mm": round(self.x_mm, 3),
            "y_mm": round(self.y_mm, 3),
            "z_mm": round(self.z_mm, 3),
            "pixel": {"x": round(self.pixel_x, 2), "y": round(self.pixel_y, 2)},
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True)
class Skipped:
    """A plant the protocol leaves out, and why (no tip, no robot point...)."""

    plant: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The skipped plant as written to ``<stem>.ot2.json``."""
        return {"plant": self.plant, "reason": self.reason}


def _one_line(text: str) -> str:
    """Text safe to put after a ``#``: a newline would end the comment."""
    return " ".join(str(text).split())


def _mm(value: float) -> str:
    return repr(round(float(value), 3))


def render_protocol(
    *,
    image: str,
    targets: Sequence[Target],
    skipped: Sequence[Skipped],
    options: Ot2Options,
    author: str,
) -> str:
    """The source of an OT-2 protocol inoculating ``targets``.

    Args:
        image: the image the targets come from, named in the metadata.
        targets: root tips in deck millimetres, in the order to visit them.
        skipped: plants left out, listed as comments.
        options: deck layout, volume, heights and API level.
        author: who wrote the protocol (e.g. ``"visionkit-ot2 0.1.0"``).

    Returns:
        Python source defining ``metadata``, ``requirements`` and ``run(protocol)``.
    """
    metadata = {
        "protocolName": f"visionkit inoculation: {_one_line(image)}",
        "author": _one_line(author),
        "description": (
            f"Dispense {options.volume_ul:g} uL at each of {len(targets)} primary-root "
            f"tips found by visionkit in {_one_line(image)}."
        ),
        "apiLevel": options.api_level,
    }
    lines = [
        f'"""OT-2 inoculation protocol for {_one_line(image)!r}, written by {_one_line(author)}.',
        "",
        "Each target is a primary-root tip found by visionkit and mapped to the OT-2",
        "deck frame (millimetres) by a calibration. Check the deck layout below, and",
        "simulate with `opentrons_simulate` before running it on the robot.",
        '"""',
        "",
        "from opentrons import protocol_api, types",
        "",
        "metadata = {",
        *(f"    {key!r}: {value!r}," for key, value in metadata.items()),
        "}",
        'requirements = {"robotType": "OT-2"}',
        "",
        "# Deck layout: labware from Opentrons' standard library.",
        "LABWARE = {",
        *(f"    {key!r}: {value!r}," for key, value in options.labware().items()),
        "}",
        f"VOLUME_UL = {options.volume_ul!r}",
        f"DISPENSE_HEIGHT_MM = {options.dispense_height_mm!r}  # above each root tip",
        f"TRAVEL_HEIGHT_MM = {options.travel_height_mm!r}  # approach from straight above",
        f"NEW_TIP = {options.new_tip!r}  # 'always': a fresh tip per plant; 'once': one tip",
        "",
        "# Root tips to inoculate: (plant, deck x, y, z in mm).",
        "TARGETS = [",
        *(
            f"    ({t.plant}, {_mm(t.x_mm)}, {_mm(t.y_mm)}, {_mm(t.z_mm)}),"
            f"  # image pixel ({t.pixel_x:.1f}, {t.pixel_y:.1f}), confidence {t.confidence:.2f}"
            for t in targets
        ),
        "]",
        "",
    ]
    if skipped:
        lines.append("# Plants left out:")
        lines.extend(f"#   plant {s.plant}: {_one_line(s.reason)}" for s in skipped)
    else:
        lines.append("# Plants left out: none.")
    lines += [
        "SKIPPED = [",
        *(f"    ({s.plant}, {_one_line(s.reason)!r})," for s in skipped),
        "]",
        "",
        _RUN,
    ]
    return "\n".join(lines)


_RUN = '''
def _above(x, y, z, height):
    return types.Location(types.Point(x, y, z + height), None)


def run(protocol: protocol_api.ProtocolContext) -> None:
    """Inoculate each target: aspirate, come down from above, dispense, rise, drop the tip."""
    tiprack = protocol.load_labware(LABWARE["tiprack"], LABWARE["tiprack_slot"])
    source_labware = protocol.load_labware(LABWARE["source_labware"], LABWARE["source_slot"])
    source = source_labware[LABWARE["source_well"]]
    pipette = protocol.load_instrument(LABWARE["pipette"], LABWARE["mount"], tip_racks=[tiprack])
    for plant, reason in SKIPPED:
        protocol.comment(f"plant {plant} skipped: {reason}")
    if not TARGETS:
        protocol.comment("no root tips to inoculate")
        return
    if NEW_TIP == "once":
        pipette.pick_up_tip()
    for plant, x, y, z in TARGETS:
        if NEW_TIP == "always":
            pipette.pick_up_tip()
        protocol.comment(f"plant {plant}: root tip at deck ({x}, {y}, {z}) mm")
        pipette.aspirate(VOLUME_UL, source)
        pipette.move_to(_above(x, y, z, TRAVEL_HEIGHT_MM))
        pipette.dispense(VOLUME_UL, _above(x, y, z, DISPENSE_HEIGHT_MM))
        pipette.move_to(_above(x, y, z, TRAVEL_HEIGHT_MM))
        if NEW_TIP == "always":
            pipette.drop_tip()
    if NEW_TIP == "once":
        pipette.drop_tip()
'''
