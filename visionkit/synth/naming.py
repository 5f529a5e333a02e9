"""Hades-style file names for synthetic plates.

Names follow the NPEC Hades pattern so every tool that reads real Hades
folders reads synthetic ones unchanged::

    001_10-1-ROOT1-2026-01-05_synth_OD0_f1h1_01-Fish Eye Corrected.png

The experiment code comes from the data set's seed, the plate number and the
date from the plate's index (so names are unique within a data set), and the
condition and replicate vary with the index, all deterministically.
"""

from __future__ import annotations

import datetime as _dt

__all__ = ["MASK_SUFFIX", "plate_name"]

#: ``<stem><MASK_SUFFIX.format(name)>`` is the file of one mask class.
MASK_SUFFIX = "_{}_mask.tif"

_DOSES = ("OD0", "OD001", "OD01", "OD05", "OD1")
_FIRST_DAY = _dt.date(2026, 1, 5)
_PLATES_PER_DAY = 999


def plate_name(seed: int, index: int, *, suffix: str = ".png") -> str:
    """The Hades-style file name of plate ``index`` of the data set made with ``seed``.

    >>> plate_name(0, 0)
    '001_10-1-ROOT1-2026-01-05_synth_OD0_f1h1_01-Fish Eye Corrected.png'
    """
    if index < 0:
        raise ValueError(f"plate index must be >= 0, got {index}")
    plate = index % _PLATES_PER_DAY + 1
    experiment = f"{seed % 90 + 10}-{seed // 90 % 20 + 1}-ROOT1"
    day = _FIRST_DAY + _dt.timedelta(days=index // _PLATES_PER_DAY + seed % 7)
    dose = _DOSES[index // 5 % len(_DOSES)]
    condition = f"synth_{dose}_f{index % 6 + 1}h{index // 6 % 3 + 1}"
    replicate = index % 5 + 1
    return (
        f"{plate:03d}_{experiment}-{day.isoformat()}_{condition}_{replicate:02d}"
        f"-Fish Eye Corrected{suffix}"
    )
