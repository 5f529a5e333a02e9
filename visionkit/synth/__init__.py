"""Synthetic NPEC Hades plates with pixel-exact ground truth.

No Hades data set can be downloaded where models are trained, so models
learn from these plates: a dark surround and dish wall, light agar with slow
illumination changes, condensation droplets thick along the top, bubbles,
specks and fibres, and five seedlings whose roots taper and fade towards
faint tips, with lateral roots, root hairs and the hard cases (a lateral
ending below the tip, crossing neighbours, a late or missing plant, a root
under a droplet) included on purpose::

    from visionkit.synth import SynthConfig, generate_plate, write_plate

    plate = generate_plate(seed=1, index=0)
    write_plate(plate, "plates/")

See ``docs/synthetic.md`` for the file layout and the realism checks.
"""

from __future__ import annotations

from visionkit.synth.config import SynthConfig
from visionkit.synth.dataset import generate_dataset
from visionkit.synth.generator import generate_plate
from visionkit.synth.plate import SynthPlate
from visionkit.synth.render import MASK_NAMES
from visionkit.synth.writer import write_plate

__all__ = [
    "MASK_NAMES",
    "SynthConfig",
    "SynthPlate",
    "generate_dataset",
    "generate_plate",
    "write_plate",
]
