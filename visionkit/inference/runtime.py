"""Run a model on a batch of tiles: eager PyTorch, TorchScript or ONNX Runtime.

Every backend is a callable that takes a ``float32`` batch ``(N, C_in, H, W)``
(already normalised) and returns ``float32`` logits ``(N, C, H, W)``; nothing
else in visionkit cares which one runs. Choose by name:

``"torch"``
    eager PyTorch in ``inference_mode``, ``channels_last`` memory layout
    (about twice as fast on CPU for convolutions).
``"torchscript"``
    the module traced with ``torch.jit.trace`` and frozen, once per input
    shape.
``"onnx"``
    ONNX Runtime on the CPU: the module is exported once (opset 17, dynamic
    batch, height and width) to a cache folder keyed by the weights' sha256,
    so the next run starts in milliseconds. The fastest on CPU. With the export
    cached, the torch module is never built (a lazily loaded model,
    :func:`visionkit.modelfolder.load_model`), so torch is never imported.
``"onnx-int8"``
    the same export quantised to 8 bits by ONNX Runtime's static quantisation,
    calibrated once on synthetic plates and cached
    (:mod:`visionkit.inference.quantize`): about 1.4x faster per frame than
    ``"onnx"`` on this project's CPUs, with the same tips on the default
    model's validation and test plates (``docs/predict.md``, "Backends and
    speed"); check another model with ``visionkit evaluate --backend onnx-int8``.

The cache folder is ``$VISIONKIT_CACHE/onnx`` or ``~/.cache/visionkit/onnx``.
A model folder may also carry its exports (:data:`EXPORT_FILES`, written by
``visionkit export``), stamped with the sha256 of the weights they came from:
one whose stamp matches is run as it is, with nothing exported or quantised
on the user's machine (the shipped default model carries its ``onnx-int8``
file); one from other weights is ignored with a warning.

When the settings name no backend (``None``), the model's own preference
(``ModelConfig.backend``) runs, else :data:`~visionkit.settings.DEFAULT_BACKEND`
(:func:`resolve_backend`). torch and onnxruntime are imported only when a
backend is built.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
import weakref
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from visionkit.exceptions import ModelError
from visionkit.inference.cache import OPSET, cache_dir, cache_file_name, mark_used
from visionkit.modelfolder import SavedModel
from visionkit.settings import BACKENDS, DEFAULT_BACKEND

__all__ = [
    "BACKENDS",
    "EXPORT_FILES",
    "OPSET",
    "OnnxRuntime",
    "Runtime",
    "TorchRuntime",
    "TorchScriptRuntime",
    "cache_dir",
    "export_onnx",
    "get_runtime",
    "make_runtime",
    "onnx_path",
    "resolve_backend",
    "write_export",
]

logger = logging.getLogger(__name__)

#: backend -> the file in a model folder that holds its export.
EXPORT_FILES: dict[str, str] = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}

#: ONNX metadata key of an export in a model folder: the weights' sha256.
WEIGHTS_METADATA = "visionkit.weights_sha256"


class Runtime(Protocol):
    """A model ready to run: ``runtime(batch) -> logits``."""

    name: str

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Logits ``(N, C, H, W)`` float32 for a normalised ``(N, C_in, H, W)`` batch."""
        ...


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(int(threads))


class TorchRuntime:
    """Eager PyTorch on the CPU (or the module's device).

    Args:
        module: the network; it is put in eval mode and, with
            ``channels_last``, converted in place to that memory layout.
        channels_last: use the NHWC layout (faster convolutions on CPU).
        threads: ``torch.set_num_threads`` value; ``None`` keeps torch's.
    """

    name = "torch"

    def __init__(self, module: Any, *, channels_last: bool = True, threads: int | None = None):
        import torch

        _set_threads(threads)
        self._torch = torch
        self.channels_last = channels_last
        self.module = module.eval()
        if channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)
        first = next(iter(self.module.parameters()), None)
        self.device = first.device if first is not None else torch.device("cpu")

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        torch = self._torch
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
        if self.channels_last:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            out = self.module(tensor)
        return np.ascontiguousarray(out.float().cpu().numpy())


class TorchScriptRuntime:
    """The module traced and frozen with TorchScript, once per input shape."""

    name = "torchscript"

    def __init__(self, module: Any, *, threads: int | None = None) -> None:
        import torch

        _set_threads(threads)
        self._torch = torch
        self.module = module.eval()
        self._traced: dict[tuple[int, ...], Any] = {}

    def _trace(self, shape: tuple[int, ...]) -> Any:
        torch = self._torch
        if shape not in self._traced:
            example = torch.zeros(shape)
            with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
                warnings.simplefilter("ignore")
                traced = torch.jit.trace(self.module, example, check_trace=False)
                self._traced[shape] = torch.jit.freeze(traced.eval())
        return self._traced[shape]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        torch = self._torch
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        traced = self._trace(tuple(tensor.shape))
        with torch.no_grad():
            out = traced(tensor)
        return np.ascontiguousarray(out.float().numpy())


class OnnxRuntime:
    """An exported ``.onnx`` file run by ONNX Runtime on the CPU.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads; ``None`` lets ONNX Runtime choose.
    """

    name = "onnx"

    def __init__(self, path: str | os.PathLike[str], *, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle ORT threads otherwise spin for a while after each run, taking
        # CPU from everything else in the process (and on a shared machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = int(threads)
        self.path = Path(path)
        try:
            self.session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(
                f"{self.path}: ONNX Runtime cannot load it ({exc}); delete the file to re-export"
            ) from exc
        self.input_name: str = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        out = self.session.run(
            None, {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)}
        )
        return np.asarray(out[0], dtype=np.float32)


def _weights_key(model: SavedModel) -> str:
    if model.sha256:
        return model.sha256
    digest = hashlib.sha256()
    for name, tensor in sorted(model.module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def onnx_path(model: SavedModel, *, int8: bool = False, folder: Path | None = None) -> Path:
    """The cache file for ``model``'s export, named by its weights' sha256."""
    return (folder or cache_dir()) / cache_file_name(_weights_key(model), int8=int8)


def export_onnx(module: Any, path: str | os.PathLike[str], *, in_channels: int = 1) -> Path:
    """Export ``module`` to ONNX (opset 17, dynamic batch/height/width), atomically.

    Raises:
        ModelError: the export fails (names the module and the cause).
    """
    import torch

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    module = module.eval().to(memory_format=torch.contiguous_format)
    example = torch.zeros(1, in_channels, 64, 64)
    axes = {0: "batch", 2: "height", 3: "width"}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (example,),
                str(tmp),
                opset_version=OPSET,
                input_names=["image"],
                output_names=["logits"],
                dynamic_axes={"image": axes, "logits": axes},
                dynamo=False,
            )
        os.replace(tmp, target)
    except Exception as exc:
        raise ModelError(
            f"cannot export {type(module).__name__} to ONNX at {target}: {exc}; "
            f"use backend='torch' instead"
        ) from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("exported %s to %s", type(module).__name__, target)
    return target


def _ensure_onnx(model: SavedModel, *, int8: bool) -> Path:
    """The cached export to run, built first if need be and marked used (for pruning)."""
    quantized = onnx_path(model, int8=True)
    if int8 and quantized.is_file():
        mark_used(quantized)
        return quantized
    path = onnx_path(model)
    if path.is_file():
        mark_used(path)
    else:
        export_onnx(model.module, path, in_channels=model.config.in_channels)
    if not int8:
        return path
    from visionkit.inference.quantize import quantize

    quantize(model, path, quantized)
    return quantized


def resolve_backend(model: SavedModel, backend: str | None = None) -> str:
    """The runtime to build: ``backend``, else the model's preference, else the default.

    The model's preference (``ModelConfig.backend``) is set once it was scored
    on that runtime; the default is :data:`~visionkit.settings.DEFAULT_BACKEND`.
    """
    return backend or model.config.backend or DEFAULT_BACKEND


def _folder_runtime(model: SavedModel, backend: str, threads: int | None) -> OnnxRuntime | None:
    """The ``backend`` export ``model``'s folder carries, if it is stamped with these weights."""
    if not model.sha256 or backend not in EXPORT_FILES:
        return None  # a model built in memory has no folder to look in
    path = model.path / EXPORT_FILES[backend]
    if not path.is_file():
        return None
    runtime = OnnxRuntime(path, threads=threads)
    stamp = runtime.session.get_modelmeta().custom_metadata_map.get(WEIGHTS_METADATA)
    if stamp != _weights_key(model):
        logger.warning(
            "%s was exported from other weights (stamp %s, weights %s); ignoring it, "
            "run `visionkit export` again to replace it",
            path,
            (stamp or "none")[:12],
            _weights_key(model)[:12],
        )
        return None
    return runtime


def make_runtime(
    model: SavedModel,
    backend: str | None = None,
    *,
    threads: int | None = None,
    channels_last: bool = True,
) -> Runtime:
    """Build the ``backend`` runtime for ``model`` (see the module docstring).

    ``None`` is the model's preference (:func:`resolve_backend`).

    Raises:
        ValueError: an unknown backend, listing the valid ones.
        ModelError: the ONNX export or load fails.
    """
    backend = resolve_backend(model, backend)
    if backend == "torch":
        return TorchRuntime(model.module, channels_last=channels_last, threads=threads)
    if backend == "torchscript":
        return TorchScriptRuntime(model.module, threads=threads)
    if backend in EXPORT_FILES:
        runtime = _folder_runtime(model, backend, threads) or OnnxRuntime(
            _ensure_onnx(model, int8=backend == "onnx-int8"), threads=threads
        )
        runtime.name = backend
        return runtime
    raise ValueError(f"unknown backend {backend!r}; valid backends are {', '.join(BACKENDS)}")


def _stamp(graph: Any) -> str | None:
    """The weights' sha256 an ONNX graph (``onnx.ModelProto``) is stamped with, if any."""
    return next((p.value for p in graph.metadata_props if p.key == WEIGHTS_METADATA), None)


def write_export(model: SavedModel, backend: str) -> Path:
    """Write ``model``'s ``backend`` export into the model's folder.

    The file (:data:`EXPORT_FILES`) is the cached export, built first if
    need be, stamped with the weights' sha256 (:data:`WEIGHTS_METADATA`) so
    :func:`make_runtime` runs it only with these weights, and written
    atomically. A file already there with these weights' stamp is kept as
    it is (nothing is exported or quantised again).

    Raises:
        ValueError: ``backend`` has no export file (``torch``, ``torchscript``),
            or ``model`` was not loaded from a folder.
        ModelError: the export or quantisation fails.
    """
    if backend not in EXPORT_FILES:
        raise ValueError(
            f"backend {backend!r} has no export file; exportable: {', '.join(EXPORT_FILES)}"
        )
    if not model.sha256:
        raise ValueError("the model was not loaded from a folder; save it and load it first")
    import onnx

    target = model.path / EXPORT_FILES[backend]
    if target.is_file() and _stamp(onnx.load(str(target))) == _weights_key(model):
        logger.info("%s is stamped with these weights already; kept", target)
        return target
    source = _ensure_onnx(model, int8=backend == "onnx-int8")
    graph = onnx.load(str(source))
    stamps = {entry.key: entry for entry in graph.metadata_props}
    entry = stamps.get(WEIGHTS_METADATA) or graph.metadata_props.add()
    entry.key, entry.value = WEIGHTS_METADATA, _weights_key(model)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        onnx.save(graph, str(tmp))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("wrote the %s export of %s to %s", backend, model.config.name, target)
    return target


_RUNTIMES: weakref.WeakKeyDictionary[Any, dict[tuple[str, int | None], Runtime]] = (
    weakref.WeakKeyDictionary()
)


def get_runtime(
    model: SavedModel, backend: str | None = None, *, threads: int | None = None
) -> Runtime:
    """Like :func:`make_runtime`, but reuses the runtime built for the same network before.

    Keyed by the model's :class:`~visionkit.modelfolder.ModuleHandle`, not its
    module, so looking a runtime up never builds a lazily loaded network.
    """
    per_module = _RUNTIMES.setdefault(model.handle, {})
    key = (resolve_backend(model, backend), threads)
    if key not in per_module:
        per_module[key] = make_runtime(model, key[0], threads=threads)
    return per_module[key]
