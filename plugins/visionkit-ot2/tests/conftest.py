"""Shared fixtures: predictions shaped like a Hades plate, and where opentrons lives."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from visionkit import DishInfo, Keypoint, ModelInfo, Plant, Prediction, RobotPoint

PLUGIN_ROOT = Path(__file__).resolve().parents[1]

#: Name of a Hades image, with the spaces the real ones have.
HADES_NAME = "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png"


def plate_prediction(*, with_robot: bool = True, dish: bool = True) -> Prediction:
    """Five plants as on a Hades plate: three tips found, one missing, one without robot point."""

    def robot(x: float, y: float) -> RobotPoint | None:
        return RobotPoint("ot2", x, y, 0.057) if with_robot else None

    plants = [
        Plant(
            1, Keypoint(812.0, 1930.5, 0.88), Keypoint(806, 820, 0.9), robot=robot(0.1634, 0.1012)
        ),
        Plant(2, Keypoint(1300.0, 1800.0, 0.75), None, robot=robot(0.1571, 0.1254)),
        Plant(3, None, Keypoint(1700, 810, 0.8), reason="root not found"),
        Plant(4, Keypoint(2100.0, 2000.0, 0.93), None, robot=robot(0.1676, 0.1654)),
        Plant(5, Keypoint(2500.0, 1500.0, 0.4), None),
    ]
    return Prediction(
        image=HADES_NAME,
        width=2597,
        height=2599,
        model=ModelInfo("root-unet", "3", "0" * 64),
        dish=DishInfo((0, 0, 2597, 2599), 0.0496) if dish else None,
        plants=plants,
    )


@pytest.fixture
def prediction() -> Prediction:
    """A plate whose plants 1, 2 and 4 carry OT-2 robot points (metres)."""
    return plate_prediction()


@pytest.fixture
def make_prediction() -> Callable[..., Prediction]:
    """Build a plate prediction with or without robot points or dish."""
    return plate_prediction


def _has_opentrons(python: str) -> bool:
    probe = subprocess.run(
        [python, "-c", "import opentrons.simulate"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return probe.returncode == 0


def find_opentrons_python() -> str | None:
    """A Python interpreter that can import ``opentrons``, or ``None``.

    In order: ``$VISIONKIT_OT2_SIMULATOR_PYTHON``; this interpreter; the
    plugin's own ``.venv`` (opentrons pins numpy<2, so it usually cannot share
    visionkit's environment; README.md says how to make that venv).
    """
    configured = os.environ.get("VISIONKIT_OT2_SIMULATOR_PYTHON")
    if configured:
        return configured
    if importlib.util.find_spec("opentrons") is not None:
        return sys.executable
    local = PLUGIN_ROOT / ".venv" / "bin" / "python"
    if local.exists() and _has_opentrons(str(local)):
        return str(local)
    return None


@pytest.fixture(scope="session")
def opentrons_python() -> str:
    """The interpreter that runs Opentrons' own simulator; skips when there is none."""
    python = find_opentrons_python()
    if python is None:
        pytest.skip(
            "opentrons is not installed: create plugins/visionkit-ot2/.venv with "
            "`pip install opentrons==8.8.2` or set VISIONKIT_OT2_SIMULATOR_PYTHON"
        )
    return python
