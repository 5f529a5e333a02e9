"""Model folders: save, rebuild, and refuse what does not fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visionkit.exceptions import ModelError
from visionkit.modelfolder import (
    CONFIG_FILE,
    MODEL_CARD_FILE,
    WEIGHTS_FILE,
    ModelConfig,
    build_model,
    load_model,
    save_model,
)

torch = pytest.importorskip("torch", reason="the ml extra (torch) is not installed")

_TINY = ModelConfig(
    architecture="unet",
    params={"encoder_name": "resnet18", "encoder_depth": 3, "decoder_channels": [16, 8, 4]},
    name="tiny",
    version="1",
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    torch.manual_seed(0)
    model = build_model(_TINY)
    folder = save_model(model, tmp_path_factory.mktemp("m") / "tiny", _TINY, card="# tiny\n")
    return folder, model


def test_saved_folder_has_weights_config_and_card(saved: tuple[Path, object]) -> None:
    folder, _ = saved
    assert {p.name for p in folder.iterdir()} == {WEIGHTS_FILE, CONFIG_FILE, MODEL_CARD_FILE}
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["architecture"] == "unet"
    assert config["classes"][0] == "background"
    assert (folder / MODEL_CARD_FILE).read_text() == "# tiny\n"


def test_loaded_model_gives_the_same_output(saved: tuple[Path, object]) -> None:
    folder, original = saved
    loaded = load_model(folder)
    x = torch.rand(1, 1, 64, 64)
    original.eval()  # type: ignore[attr-defined]
    with torch.no_grad():
        assert torch.allclose(loaded.module(x), original(x), atol=1e-6)  # type: ignore[operator]
    assert loaded.classes == _TINY.classes
    assert len(loaded.sha256) == 64
    assert not loaded.module.training


def test_missing_folder_and_files_are_named(tmp_path: Path, saved: tuple[Path, object]) -> None:
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / CONFIG_FILE).write_text("{}")
    with pytest.raises(ModelError, match=f"missing {WEIGHTS_FILE}"):
        load_model(tmp_path / "half")


def test_mismatched_weights_name_the_tensor(tmp_path: Path, saved: tuple[Path, object]) -> None:
    folder, _ = saved
    other = tmp_path / "other"
    other.mkdir()
    (other / WEIGHTS_FILE).write_bytes((folder / WEIGHTS_FILE).read_bytes())
    config = _TINY.to_dict()
    config["classes"] = ["background", "root"]
    (other / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelError, match="wrong shape"):
        load_model(other)
    config = _TINY.to_dict()
    config["params"] = {"encoder_name": "resnet18"}
    (other / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelError, match="missing .* tensors"):
        load_model(other)


def test_bad_config_is_explained(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / WEIGHTS_FILE).write_bytes(b"not safetensors")
    (bad / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(bad)
    (bad / CONFIG_FILE).write_text(json.dumps({"architecture": "unet", "colour": 1}))
    with pytest.raises(ModelError, match="unknown keys \\['colour'\\]"):
        load_model(bad)
    (bad / CONFIG_FILE).write_text(json.dumps({"params": {}}))
    with pytest.raises(ModelError, match="missing 'architecture'"):
        load_model(bad)
    (bad / CONFIG_FILE).write_text(json.dumps({"architecture": "segformer-xl"}))
    with pytest.raises(ModelError, match="valid architectures are"):
        load_model(bad)
    (bad / CONFIG_FILE).write_text(json.dumps(_TINY.to_dict()))
    with pytest.raises(ModelError, match="unreadable weights"):
        load_model(bad)


def test_a_lazy_model_builds_its_network_on_first_use(saved: tuple[Path, object]) -> None:
    import dataclasses

    folder, original = saved
    lazy = load_model(folder, lazy=True)
    assert not lazy.handle.built
    assert lazy.sha256 == load_model(folder).sha256
    copy = dataclasses.replace(lazy, config=dataclasses.replace(lazy.config, version="9"))
    assert not copy.handle.built  # replace shares the handle without building
    x = torch.rand(1, 1, 64, 64)
    original.eval()  # type: ignore[attr-defined]
    with torch.no_grad():
        assert torch.allclose(lazy.module(x), original(x), atol=1e-6)  # type: ignore[operator]
    assert copy.handle.built
    assert copy.module is lazy.module


def test_a_lazy_load_still_checks_what_it_can_without_torch(
    tmp_path: Path, saved: tuple[Path, object]
) -> None:
    folder, _ = saved
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / CONFIG_FILE).write_text(json.dumps({"architecture": "segformer-xl"}))
    (bad / WEIGHTS_FILE).write_bytes((folder / WEIGHTS_FILE).read_bytes())
    with pytest.raises(ModelError, match="valid architectures are"):
        load_model(bad, lazy=True)
    (bad / CONFIG_FILE).write_text(json.dumps(_TINY.to_dict()))
    (bad / WEIGHTS_FILE).write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="unreadable weights"):
        load_model(bad, lazy=True)
    config = _TINY.to_dict()
    config["classes"] = ["background", "root"]
    (bad / CONFIG_FILE).write_text(json.dumps(config))
    (bad / WEIGHTS_FILE).write_bytes((folder / WEIGHTS_FILE).read_bytes())
    lazy = load_model(bad, lazy=True)  # the mismatch needs the network: found on first use
    with pytest.raises(ModelError, match="wrong shape"):
        _ = lazy.module
