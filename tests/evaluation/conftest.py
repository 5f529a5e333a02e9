"""Fixtures for evaluation tests: labelled folders whose answer is known, and models.

``oracle_model`` segments drawn plates perfectly, so an evaluation of it must
score F1 1.0 and ECE ~0; the tiny random U-Net gives structure without
skill. Plates and models themselves live in :mod:`tests.helpers`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.models import oracle_model as make_oracle
from tests.helpers.models import save_tiny_unet
from tests.helpers.plates import draw_labelled_plate, write_plate
from visionkit.modelfolder import SavedModel


@pytest.fixture(scope="session")
def oracle_model() -> SavedModel:
    """A loaded model that segments drawn plates perfectly (no folder on disk)."""
    return make_oracle()


@pytest.fixture(scope="session")
def drawn_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two drawn plates with exact masks and landmarks."""
    folder = tmp_path_factory.mktemp("drawn")
    write_plate(folder, "plate_a", draw_labelled_plate())
    write_plate(folder, "plate_b", draw_labelled_plate(plants=4, root_length=200))
    return folder


@pytest.fixture(scope="session")
def synth_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small synthetic plates (1/8 of a Hades frame) with masks and landmarks."""
    from visionkit.synth import SynthConfig
    from visionkit.synth.dataset import generate_dataset

    folder = tmp_path_factory.mktemp("synth")
    config = SynthConfig(root_length_mm=(20.0, 40.0)).scaled(0.125)
    generate_dataset(folder, 2, 5, config=config, progress=False)
    return folder


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny U-Net saved as a model folder."""
    return save_tiny_unet(tmp_path_factory.mktemp("tiny-unet"))
