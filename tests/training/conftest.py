"""Shared fixtures of the training tests: small synthetic plates and a tiny model.

Eight dish crops drawn at an eighth of the Hades resolution (about 330 px,
thin roots still a pixel wide) and read as they are (working scale 0.125),
one of them held out, keep a two-epoch run of a three-level resnet18 U-Net on
16 patches of 64 px at about two seconds on an idle core.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.helpers.training import ConfigFactory, tiny_settings
from visionkit.synth import SynthConfig, generate_dataset
from visionkit.training.config import TrainConfig

# One thread: the CPU is shared, and on a busy machine two threads run this
# tiny model three times slower than one.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def plates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight labelled synthetic dish crops at 1/8 scale (shared, do not modify)."""
    folder = tmp_path_factory.mktemp("plates")
    generate_dataset(
        folder, 8, seed=3, crop=True, config=SynthConfig().scaled(0.125), progress=False
    )
    return folder


@pytest.fixture(scope="session")
def val_plates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two more plates, for runs with a separate validation folder."""
    folder = tmp_path_factory.mktemp("val_plates")
    generate_dataset(
        folder, 2, seed=4, crop=True, config=SynthConfig().scaled(0.125), progress=False
    )
    return folder


@pytest.fixture
def make_config(plates: Path, tmp_path: Path) -> ConfigFactory:
    """``make_config(**changes)``: a tiny fast config writing into ``tmp_path/run``."""

    def make(**changes: Any) -> TrainConfig:
        return TrainConfig(**{**tiny_settings(plates, tmp_path / "run"), **changes})

    return make


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh local MLflow store (SQLite), created once per module (it takes seconds)."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlruns.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()
    return uri
