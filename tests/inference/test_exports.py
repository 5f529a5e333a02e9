"""Exports carried in a model folder, and a model's own runtime."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.helpers.models import TINY_UNET
from visionkit.cli import main
from visionkit.exceptions import ModelError, SettingsError
from visionkit.inference.runtime import (
    EXPORT_FILES,
    WEIGHTS_METADATA,
    cache_dir,
    get_runtime,
    make_runtime,
    onnx_path,
    resolve_backend,
    write_export,
)
from visionkit.modelfolder import (
    CONFIG_FILE,
    ModelConfig,
    SavedModel,
    build_model,
    load_model,
    save_model,
    write_config,
)
from visionkit.pipeline import DEFAULT_MODEL_DIR
from visionkit.settings import SegmentSettings


@pytest.fixture
def folder(tiny_unet_folder: Path, tmp_path: Path) -> Path:
    """A copy of the tiny U-Net's folder that a test may change."""
    return Path(shutil.copytree(tiny_unet_folder, tmp_path / "model"))


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("VISIONKIT_CACHE", str(cache))
    return cache


def _stamp(path: Path) -> str | None:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}.get(WEIGHTS_METADATA)


def test_the_default_model_runs_the_int8_file_it_ships_with(empty_cache: Path) -> None:
    model = load_model(DEFAULT_MODEL_DIR, lazy=True)
    assert model.config.backend == "onnx-int8"
    shipped = DEFAULT_MODEL_DIR / EXPORT_FILES["onnx-int8"]
    # Stamped with these weights: a retrained default model must be exported again.
    assert _stamp(shipped) == model.sha256
    runtime = make_runtime(model)
    assert runtime.name == "onnx-int8"
    assert runtime.path == shipped  # type: ignore[attr-defined]
    assert not cache_dir().exists()  # nothing exported or quantised on this machine
    assert not model.handle.built  # and the torch network never built


def test_an_export_in_the_folder_is_run_from_there(folder: Path, empty_cache: Path) -> None:
    written = write_export(load_model(folder), "onnx")
    assert written == folder / "model.onnx"
    assert _stamp(written) == load_model(folder).sha256
    shutil.rmtree(empty_cache)  # the export write_export made on its way

    fresh = load_model(folder, lazy=True)
    runtime = make_runtime(fresh, "onnx")
    assert runtime.path == written  # type: ignore[attr-defined]
    assert not empty_cache.exists()
    batch = np.random.default_rng(0).normal(size=(1, 1, 64, 64)).astype(np.float32)
    reference = make_runtime(load_model(folder), "torch", channels_last=False)(batch)
    np.testing.assert_allclose(runtime(batch), reference, atol=1e-3)


def test_an_export_from_other_weights_is_ignored(
    folder: Path, empty_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import torch

    write_export(load_model(folder), "onnx")
    torch.manual_seed(1)
    save_model(build_model(TINY_UNET), folder, TINY_UNET)  # new weights, the old export stays

    retrained = load_model(folder)
    with caplog.at_level(logging.WARNING, logger="visionkit.inference.runtime"):
        runtime = make_runtime(retrained, "onnx")
    assert runtime.path == onnx_path(retrained)  # type: ignore[attr-defined]
    assert "exported from other weights" in caplog.text
    batch = np.random.default_rng(0).normal(size=(1, 1, 64, 64)).astype(np.float32)
    reference = make_runtime(retrained, "torch", channels_last=False)(batch)
    np.testing.assert_allclose(runtime(batch), reference, atol=1e-3)


def test_the_settings_backend_wins_over_the_models(folder: Path) -> None:
    model = load_model(folder)
    assert resolve_backend(model) == "onnx"  # a model that names none
    write_config(folder, replace(model.config, backend="torch"))
    prefers_torch = load_model(folder)
    assert resolve_backend(prefers_torch) == "torch"
    assert resolve_backend(prefers_torch, "onnx") == "onnx"
    assert get_runtime(prefers_torch).name == "torch"
    assert get_runtime(prefers_torch, "onnx").name == "onnx"
    assert SegmentSettings().backend is None
    with pytest.raises(SettingsError, match="backend must be one of"):
        SegmentSettings(backend="tpu")


def test_a_config_names_its_backend_only_when_it_has_one(folder: Path) -> None:
    assert "backend" not in ModelConfig(architecture="unet-small").to_dict()
    raw = json.loads((folder / CONFIG_FILE).read_text())
    assert "backend" not in raw  # older releases read a freshly trained model's folder
    raw["backend"] = "tpu"
    (folder / CONFIG_FILE).write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="backend must be one of .*'tpu'"):
        load_model(folder)


def test_export_writes_the_file_and_prefer_records_it(folder: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--model", str(folder), "--backend", "onnx", "--prefer"]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {folder / 'model.onnx'}" in result.output
    assert "predictions that name no backend run onnx" in result.output
    assert load_model(folder).config.backend == "onnx"
    assert _stamp(folder / "model.onnx") == load_model(folder).sha256

    written = (folder / "model.onnx").stat().st_mtime_ns
    again = CliRunner().invoke(main, ["export", "--model", str(folder), "--backend", "onnx"])
    assert again.exit_code == 0, again.output
    assert (folder / "model.onnx").stat().st_mtime_ns == written  # up to date: kept

    refused = CliRunner().invoke(main, ["export", "--model", str(folder), "--backend", "torch"])
    assert refused.exit_code == 2
    assert "'torch' is not one of 'onnx', 'onnx-int8'" in refused.output


def test_write_export_refuses_a_backend_without_a_file(folder: Path) -> None:
    with pytest.raises(ValueError, match="no export file; exportable: onnx, onnx-int8"):
        write_export(load_model(folder), "torchscript")


def test_write_export_needs_a_model_from_a_folder(tiny_unet: SavedModel) -> None:
    in_memory = SavedModel(tiny_unet.module, tiny_unet.config)
    with pytest.raises(ValueError, match="not loaded from a folder"):
        write_export(in_memory, "onnx")
