"""Checkpoints: written atomically, read without unpickling."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
import torch

from tests.helpers.training import TINY_MODEL
from visionkit.exceptions import ModelError
from visionkit.modelfolder import ModelConfig, build_model, load_model
from visionkit.training.checkpoint import (
    CHECKPOINT_DIR,
    STATE_FILE,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from visionkit.training.config import TrainConfig


@pytest.fixture
def model_config() -> ModelConfig:
    params = {"encoder_name": TINY_MODEL["encoder"], **TINY_MODEL["arch_params"]}
    return ModelConfig(architecture="unet", params=params)


def _save(out: Path, model: torch.nn.Module, model_config: ModelConfig, epoch: int) -> Path:
    state = {"run": {"epoch": epoch, "history": [{"val_loss": 0.5}]}, "rng": torch.get_rng_state()}
    return save_checkpoint(
        out, model, model_config, TrainConfig(data_dir="d", epochs=epoch + 1), state, card="c"
    )


def test_round_trip_is_exact_and_a_loadable_model(
    tmp_path: Path, model_config: ModelConfig
) -> None:
    model = build_model(model_config)
    folder = _save(tmp_path, model, model_config, 3)
    assert folder == tmp_path / CHECKPOINT_DIR
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint.state["run"]["epoch"] == 3
    assert checkpoint.config.epochs == 4
    for name, tensor in model.state_dict().items():
        assert torch.equal(checkpoint.weights[name], tensor)
    assert load_model(folder).config.architecture == "unet"
    assert not list(folder.parent.glob(".*")), "no temporary folders left behind"


def test_failed_write_keeps_the_previous_checkpoint(
    tmp_path: Path, model_config: ModelConfig
) -> None:
    model = build_model(model_config)
    _save(tmp_path, model, model_config, 1)
    with pytest.raises((AttributeError, pickle.PicklingError)):  # a lambda cannot be saved
        save_checkpoint(
            tmp_path,
            model,
            model_config,
            TrainConfig(data_dir="d"),
            {"bad": lambda: None},
            card="c",
        )
    assert load_checkpoint(tmp_path).state["run"]["epoch"] == 1


def test_kill_between_the_renames_falls_back_to_the_previous(
    tmp_path: Path, model_config: ModelConfig
) -> None:
    model = build_model(model_config)
    folder = _save(tmp_path, model, model_config, 2)
    # what a kill after "old aside" and before "new in" leaves: no last/, .last.old/, a partial tmp
    folder.rename(folder.with_name(".last.old"))
    partial = folder.with_name(".last.tmp-999")
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"half")
    assert find_checkpoint(tmp_path) == folder.with_name(".last.old")
    assert load_checkpoint(tmp_path).state["run"]["epoch"] == 2
    # the next save cleans up and puts a complete checkpoint in place
    _save(tmp_path, model, model_config, 3)
    assert find_checkpoint(tmp_path) == folder
    assert not folder.with_name(".last.old").exists()


def test_no_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no checkpoint to resume from"):
        load_checkpoint(tmp_path)


def test_pickled_objects_are_refused(tmp_path: Path, model_config: ModelConfig) -> None:
    folder = _save(tmp_path, build_model(model_config), model_config, 1)
    torch.save({"run": {}, "evil": Path("x")}, folder / STATE_FILE)  # an arbitrary object
    with pytest.raises(ModelError, match="unreadable checkpoint state"):
        load_checkpoint(tmp_path)
    torch.save([1, 2], folder / STATE_FILE)
    with pytest.raises(ModelError, match="not a training state"):
        load_checkpoint(tmp_path)


def test_damaged_weights(tmp_path: Path, model_config: ModelConfig) -> None:
    folder = _save(tmp_path, build_model(model_config), model_config, 1)
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="unreadable checkpoint weights"):
        load_checkpoint(tmp_path)
    shutil.rmtree(folder)
    assert find_checkpoint(tmp_path) is None
