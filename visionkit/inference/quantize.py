"""Quantise an ONNX export to 8 bits, calibrated on synthetic plates (the ``onnx-int8`` backend).

ONNX Runtime offers two ways. *Dynamic* quantisation stores the weights in
8 bits but measures each activation's range while it runs; on this
project's CPUs (AVX2, no VNNI) it was 1.6x *slower* than float32 for the
default model, because every convolution paid for the extra measuring and
conversions. *Static* quantisation, used here, fixes every activation's
range beforehand from calibration data and writes a QDQ graph that ONNX
Runtime fuses into 8-bit convolutions: about 1.6x faster than float32 on the
same tiles (1.4x per full frame), with the same tips on the validation plates (``docs/predict.md``,
"Backends and speed").

Choices, each measured on the default model (``docs/benchmarks.md``):

- weights signed 8 bit per output channel, activations unsigned 8 bit
  (ONNX Runtime's U8S8, the fast path on x86), with ``reduce_range`` (7-bit
  weights), which avoids the overflow of AVX2's 16-bit accumulation in
  ``vpmaddubsw`` on CPUs without VNNI;
- the convolutions that read or write the input's full working resolution
  (for ``unet-small`` the first one, the last decoder block and the head,
  where a root is one or two pixels wide) stay
  float: quantising them cost more in conversions of their large tensors
  than it saved, and it is there that 8 bits blur a thin root's edges;
- the ranges come from the tiles the float model itself sees while
  segmenting :data:`CALIBRATION_PLATES` synthetic Hades frames (fixed seed,
  so the same weights always give the same quantised file), min-max.

The result is cached beside the float export (:func:`visionkit.inference.
runtime.onnx_path` with ``int8=True``), so calibration runs once per weights.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from visionkit.modelfolder import SavedModel

if TYPE_CHECKING:
    from visionkit.inference.runtime import Runtime

__all__ = [
    "CALIBRATION_PLATES",
    "CALIBRATION_SEED",
    "calibration_batches",
    "float_nodes",
    "quantize",
]

logger = logging.getLogger(__name__)

#: Synthetic frames whose tiles calibrate the activation ranges.
CALIBRATION_PLATES = 3
#: Their data set seed (one no evaluation set uses).
CALIBRATION_SEED = 9_031
#: Side of the probe input that tells full-resolution convolutions apart.
_PROBE = 64


def float_nodes(source: str | os.PathLike[str], in_channels: int = 1) -> list[str]:
    """Names of the ``Conv`` nodes that read or write a tensor at the input's resolution.

    Found by running the graph once on a small zero input with every
    convolution's input and output exposed, so it holds for any architecture
    the plugins export, whatever its layer names.
    """
    import onnx
    import onnxruntime as ort

    graph_model = onnx.load(str(source))
    convs = [node for node in graph_model.graph.node if node.op_type == "Conv"]
    # The graph's own input and output are at the input's resolution by contract.
    ends = {t.name for t in graph_model.graph.input} | {t.name for t in graph_model.graph.output}
    names = sorted({t for node in convs for t in (node.input[0], node.output[0])} - ends)
    for name in names:
        graph_model.graph.output.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(
        graph_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    probe = np.zeros((1, in_channels, _PROBE, _PROBE), np.float32)
    outputs = session.run(names, {session.get_inputs()[0].name: probe})
    full = ends | {
        name
        for name, value in zip(names, outputs, strict=True)
        if value.shape[-2:] == probe.shape[-2:]
    }
    return [node.name for node in convs if node.input[0] in full or node.output[0] in full]


class _Recorder:
    """A float runtime that keeps a copy of every batch it is given."""

    name = "onnx"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.batches: list[np.ndarray] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(np.array(batch, dtype=np.float32))
        return self.runtime(batch)


def calibration_batches(
    model: SavedModel, runtime: Runtime, plates: int | None = None
) -> list[np.ndarray]:
    """Single tiles ``(1, C, H, W)`` that ``runtime`` (the float export) sees on synthetic frames.

    ``plates`` defaults to :data:`CALIBRATION_PLATES` (read at call time).

    The frames go through :func:`~visionkit.inference.segment.segment_image`
    with the default settings (dish crop, working scale, the band of rows
    that holds the plants), so the tiles are normalised and sized as in use.
    """
    from visionkit.inference.segment import segment_image
    from visionkit.synth.generator import generate_plate

    recorder = _Recorder(runtime)
    for index in range(CALIBRATION_PLATES if plates is None else plates):
        plate = generate_plate(CALIBRATION_SEED, index=index)
        segment_image(model, plate.image, runtime=recorder)
    return [batch[i : i + 1] for batch in recorder.batches for i in range(batch.shape[0])]


class _Reader:
    """ONNX Runtime's calibration data reader over a list of tiles."""

    def __init__(self, input_name: str, tiles: list[np.ndarray]) -> None:
        self.input_name = input_name
        self._tiles: Iterator[np.ndarray] = iter(tiles)

    def get_next(self) -> dict[str, np.ndarray] | None:
        tile = next(self._tiles, None)
        return None if tile is None else {self.input_name: tile}


def quantize(model: SavedModel, source: Path, target: Path) -> Path:
    """Write ``source`` (a float export of ``model``) quantised to ``target``, atomically.

    Raises:
        ModelError: ONNX Runtime cannot quantise the graph.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from visionkit.exceptions import ModelError
    from visionkit.inference.runtime import OnnxRuntime

    start = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    prepared = target.with_name(f".{target.name}.{os.getpid()}.pre.onnx")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    CalibrationDataReader.register(_Reader)
    try:
        float_runtime = OnnxRuntime(source)
        tiles = calibration_batches(model, float_runtime)
        keep_float = float_nodes(source, int(model.config.in_channels))
        reader = _Reader(float_runtime.input_name, tiles)
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(tmp),
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=keep_float,
        )
        os.replace(tmp, target)
    except Exception as exc:  # ORT's quantiser raises untyped errors
        raise ModelError(f"cannot quantise {source} to 8 bits: {exc}; use backend='onnx'") from exc
    finally:
        for leftover in (prepared, tmp):
            if leftover.exists():
                leftover.unlink()
    logger.info(
        "quantised %s to 8 bits on %d calibration tiles (%d convolutions kept float) in %.1f s",
        source.name,
        len(tiles),
        len(keep_float),
        time.perf_counter() - start,
    )
    return target
