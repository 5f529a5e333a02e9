"""Fixtures for inference tests: the tiny random U-Net and the band model as folders.

Plates and models themselves live in :mod:`tests.helpers`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.band_plugin import band_net
from tests.helpers.models import band_model, save_tiny_unet
from visionkit.modelfolder import SavedModel, save_model


@pytest.fixture(scope="session")
def tiny_unet_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-initialised tiny U-Net saved as a model folder."""
    return save_tiny_unet(tmp_path_factory.mktemp("tiny-unet"))


@pytest.fixture(scope="session")
def band_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The band model saved as a folder (load it with the band plugin registered)."""
    folder = tmp_path_factory.mktemp("band")
    save_model(band_net(), folder, band_model().config)
    return folder


@pytest.fixture(scope="session")
def tiny_unet(tiny_unet_folder: Path) -> SavedModel:
    """The tiny random U-Net, loaded."""
    from visionkit.modelfolder import load_model

    return load_model(tiny_unet_folder)
