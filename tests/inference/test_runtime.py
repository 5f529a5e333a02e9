"""Backends give the same logits; ONNX exports are cached by the weights' hash."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.plates import draw_plate
from visionkit.exceptions import ModelError
from visionkit.inference.runtime import (
    BACKENDS,
    OnnxRuntime,
    cache_dir,
    export_onnx,
    get_runtime,
    make_runtime,
    onnx_path,
)
from visionkit.inference.segment import segment_image
from visionkit.modelfolder import SavedModel


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(2, 1, 64, 96)).astype(np.float32)


def test_onnx_gives_the_same_probabilities_as_torch(tiny_unet: SavedModel) -> None:
    plate = draw_plate(320, 240, dish=(50, 10, 280, 235))
    torch_result = segment_image(tiny_unet, plate.image, backend="torch", tile=128, overlap=32)
    onnx_result = segment_image(tiny_unet, plate.image, backend="onnx", tile=128, overlap=32)
    assert onnx_result.backend == "onnx"
    np.testing.assert_allclose(onnx_result.probabilities, torch_result.probabilities, atol=1e-3)


@pytest.mark.parametrize("backend", ["torchscript", "onnx"])
def test_every_backend_matches_eager_torch(
    tiny_unet: SavedModel, batch: np.ndarray, backend: str
) -> None:
    reference = make_runtime(tiny_unet, "torch", channels_last=False)(batch)
    other = make_runtime(tiny_unet, backend, threads=2)
    out = other(batch)
    assert out.shape == reference.shape == (2, 5, 64, 96)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference, atol=1e-3)
    np.testing.assert_allclose(other(batch[:1]), reference[:1], atol=1e-3)  # another shape


def test_channels_last_and_threads_keep_the_answer(
    tiny_unet: SavedModel, batch: np.ndarray
) -> None:
    import torch

    threads = torch.get_num_threads()
    try:
        fast = make_runtime(tiny_unet, "torch", channels_last=True, threads=1)
        assert torch.get_num_threads() == 1
        np.testing.assert_allclose(
            fast(batch), make_runtime(tiny_unet, "torch", channels_last=False)(batch), atol=1e-4
        )
    finally:
        torch.set_num_threads(threads)


def test_int8_runs_and_stays_close(
    tiny_unet: SavedModel, batch: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnx

    from visionkit.inference import quantize

    monkeypatch.setattr(quantize, "CALIBRATION_PLATES", 1)  # one frame calibrates a test model

    reference = make_runtime(tiny_unet, "torch")(batch)
    quantised = make_runtime(tiny_unet, "onnx-int8")
    assert quantised.name == "onnx-int8"
    out = quantised(batch)
    assert out.shape == reference.shape
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.9
    path = onnx_path(tiny_unet, int8=True)
    assert path.is_file()
    assert path.name.endswith("-int8-qdq.onnx")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # static (QDQ), not dynamic
    assert "DynamicQuantizeLinear" not in ops
    built = path.read_bytes()

    def no_second_calibration(*args: object, **kwargs: object) -> None:
        raise AssertionError("quantised again")

    monkeypatch.setattr(quantize, "quantize", no_second_calibration)
    make_runtime(tiny_unet, "onnx-int8")  # calibrated once, then reused
    assert path.read_bytes() == built
    assert not list(path.parent.glob(f".{path.name}.*"))  # nothing half-written left


def test_full_resolution_convolutions_stay_float(tiny_unet: SavedModel) -> None:
    import onnx

    from visionkit.inference.quantize import float_nodes

    source = onnx_path(tiny_unet)
    make_runtime(tiny_unet, "onnx")
    convs = [n.name for n in onnx.load(str(source)).graph.node if n.op_type == "Conv"]
    kept = float_nodes(source)
    assert convs[0] in kept
    assert convs[-1] in kept
    assert 0 < len(kept) < len(convs)  # the coarser layers are quantised


def test_a_graph_that_cannot_be_quantised_is_a_model_error(
    tiny_unet: SavedModel, tmp_path: Path
) -> None:
    from visionkit.inference.quantize import quantize

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx graph")
    target = tmp_path / "out.onnx"
    with pytest.raises(ModelError, match="cannot quantise"):
        quantize(tiny_unet, broken, target)
    assert not list(tmp_path.glob("*out.onnx*"))


def test_the_export_is_cached_by_weights_hash(
    tiny_unet: SavedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visionkit.inference import runtime

    path = onnx_path(tiny_unet)
    assert path.parent == cache_dir()
    assert tiny_unet.sha256[:32] in path.name
    make_runtime(tiny_unet, "onnx")
    exported = path.read_bytes()

    def no_second_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(runtime, "export_onnx", no_second_export)
    make_runtime(tiny_unet, "onnx")  # reused, not exported again
    assert path.read_bytes() == exported


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "onnx"
    monkeypatch.delenv("VISIONKIT_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "visionkit" / "onnx"


def test_a_model_without_a_hash_is_keyed_by_its_weights(tiny_unet: SavedModel) -> None:
    import copy

    anonymous = SavedModel(tiny_unet.module, tiny_unet.config, tiny_unet.path, "")
    other = SavedModel(copy.deepcopy(tiny_unet.module), tiny_unet.config, tiny_unet.path, "")
    assert onnx_path(anonymous) == onnx_path(other)
    with __import__("torch").no_grad():
        next(other.module.parameters()).add_(1.0)
    assert onnx_path(anonymous) != onnx_path(other)


def test_runtimes_are_reused_per_module(tiny_unet: SavedModel) -> None:
    assert get_runtime(tiny_unet, "torch") is get_runtime(tiny_unet, "torch")
    assert get_runtime(tiny_unet, "torch") is not get_runtime(tiny_unet, "torchscript")


def test_unknown_backend_lists_the_valid_ones(tiny_unet: SavedModel) -> None:
    with pytest.raises(ValueError, match=", ".join(BACKENDS)):
        make_runtime(tiny_unet, "tensorrt")


def test_a_broken_onnx_file_is_a_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="broken.onnx"):
        OnnxRuntime(broken)


def test_a_module_that_cannot_be_exported_is_a_model_error(tmp_path: Path) -> None:
    import torch

    class Untraceable(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("data-dependent control flow")

    with pytest.raises(ModelError, match="Untraceable"):
        export_onnx(Untraceable(), tmp_path / "x.onnx")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]
