"""A saved model is a folder: safetensors weights, a config that rebuilds it, a card.

::

    my-model/
      model.safetensors   the weights (tensors only: nothing is ever unpickled)
      config.json         architecture, its parameters, classes, input scale...
      MODEL_CARD.md       what it was trained on, how, and how well it did
      model-int8.onnx     optional: a ready export (``visionkit export``),
                          stamped with the weights it came from

:func:`load_model` rebuilds the network from ``config.json`` through the
architecture hook and loads the weights, checking that every tensor is there
and has the right shape. torch is imported only inside these functions, and
with ``lazy=True`` only when the network is first used (:class:`ModuleHandle`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visionkit.exceptions import ModelError, UnknownNameError

if TYPE_CHECKING:
    import pluggy

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_CLASSES",
    "MODEL_CARD_FILE",
    "WEIGHTS_FILE",
    "ModelConfig",
    "ModuleHandle",
    "SavedModel",
    "build_model",
    "file_sha256",
    "load_model",
    "save_model",
    "write_config",
]

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
MODEL_CARD_FILE = "MODEL_CARD.md"
FORMAT_VERSION = 1

#: Output channels in order; channel 0 is always background.
DEFAULT_CLASSES: tuple[str, ...] = ("background", "root", "shoot", "seed", "occluded_root")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model and feed it the right input.

    Attributes:
        architecture: a registered architecture name (``visionkit architectures``).
        params: keyword parameters for the architecture's build (encoder...).
        classes: output class names; index 0 is background.
        in_channels: input channels (1 for grayscale plates).
        scale: working scale relative to a ~20 px/mm Hades frame (0.5 = half).
        patch_size: training patch size in working-scale pixels.
        normalize: ``(mean, std)`` applied to pixel values scaled to [0, 1].
        temperature: logit temperature from calibration (1.0 = none).
        mask_thresholds: per class, the margin ``p(class) - max(other
            classes)`` above which a pixel is in the class's mask at the input
            size; 0 (the arg-max) for classes not listed. Fitted on held-out
            plates by ``visionkit evaluate --fit-masks`` to match how the
            labels draw a root's edge.
        map_offset: ``(dx, dy)`` in working pixels: where the network places
            what it sees relative to the image; predictions read its maps at
            ``p + map_offset`` (:mod:`visionkit.inference.offset`). Fitted on
            held-out plates by ``visionkit evaluate --fit-masks``.
        tip_calibration: the fitted strengths of the tip confidence's
            doubts (:class:`~visionkit.landmarks.tip_calibration.TipCalibration`
            as a dict); empty: the raw product of the factors. Fitted on
            held-out plates by ``visionkit evaluate --fit-tips``.
        backend: the inference runtime this model runs on when a prediction
            names none (one of :data:`visionkit.settings.BACKENDS`); empty:
            :data:`~visionkit.settings.DEFAULT_BACKEND`. Set only after the
            model was scored on that runtime (``visionkit export --prefer``).
        name: registry name, e.g. ``"root-unet"``.
        version: registry version.
        extra: anything else worth keeping (data version, metrics).
    """

    architecture: str
    params: dict[str, Any] = field(default_factory=dict)
    classes: tuple[str, ...] = DEFAULT_CLASSES
    in_channels: int = 1
    scale: float = 0.5
    patch_size: int = 256
    normalize: tuple[float, float] = (0.5, 0.25)
    temperature: float = 1.0
    mask_thresholds: dict[str, float] = field(default_factory=dict)
    map_offset: tuple[float, float] = (0.0, 0.0)
    tip_calibration: dict[str, Any] = field(default_factory=dict)
    backend: str = ""
    name: str = "visionkit-model"
    version: str = "0"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the folder format version."""
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["normalize"] = list(self.normalize)
        data["map_offset"] = list(self.map_offset)
        if not self.backend:
            del data["backend"]  # so that releases before the key read the folder
        data["format_version"] = FORMAT_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> ModelConfig:
        """Read a config dict; unknown keys and a missing architecture are errors."""
        data = dict(data)
        data.pop("format_version", None)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"{source}: unknown keys {unknown}; valid keys are {sorted(known)}")
        if "architecture" not in data:
            raise ModelError(f"{source}: missing 'architecture'")
        if "classes" in data:
            data["classes"] = tuple(data["classes"])
        if "normalize" in data:
            data["normalize"] = tuple(data["normalize"])
        if "map_offset" in data:
            from visionkit.inference.offset import validate_offset

            try:
                data["map_offset"] = validate_offset(data["map_offset"])
            except ValueError as exc:
                raise ModelError(f"{source}: {exc}") from exc
        if data.get("backend"):
            from visionkit.settings import BACKENDS

            if data["backend"] not in BACKENDS:
                raise ModelError(
                    f"{source}: backend must be one of {', '.join(BACKENDS)}, "
                    f"got {data['backend']!r}"
                )
        if data.get("tip_calibration"):
            from visionkit.landmarks.tip_calibration import TipCalibration

            try:
                TipCalibration.from_dict(data["tip_calibration"])
            except ValueError as exc:
                raise ModelError(f"{source}: {exc}") from exc
        return cls(**data)


class ModuleHandle:
    """The network of a saved model, built once, on first use.

    Building it imports torch and the architecture's library (for the
    built-in ones segmentation-models-pytorch, timm and torchvision: seconds),
    which a model run from a cached ONNX export never needs. A handle holds
    either the built network or the function that builds it; copies of a
    :class:`SavedModel` (``dataclasses.replace`` with another config) share
    their handle, so the network is built at most once. Thread-safe.
    """

    def __init__(self, module: Any = None, build: Callable[[], Any] | None = None) -> None:
        if module is None and build is None:
            raise ValueError("a ModuleHandle needs a module or a function that builds it")
        self._module = module
        self._build = build
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        """Whether the network exists yet (``False`` until :meth:`get` first runs)."""
        return self._module is not None

    def get(self) -> Any:
        """The network, built now if it was not yet.

        Raises:
            ModelError: the build failed (it is tried again on the next call).
        """
        if self._module is None:
            with self._lock:
                if self._module is None:
                    assert self._build is not None
                    self._module = self._build()
                    self._build = None
        return self._module


@dataclass(init=False)
class SavedModel:
    """A model loaded from a folder: the network, its config and its identity.

    ``SavedModel(module, config, path, sha256)`` wraps a network that exists;
    :func:`load_model` with ``lazy=True`` gives one whose network is built on
    first access of :attr:`module` (see :class:`ModuleHandle`).
    """

    config: ModelConfig
    path: Path
    sha256: str
    handle: ModuleHandle = field(repr=False, compare=False)

    def __init__(
        self,
        module: Any = None,
        config: ModelConfig | None = None,
        path: str | os.PathLike[str] = "",
        sha256: str = "",
        *,
        handle: ModuleHandle | None = None,
    ) -> None:
        if config is None:
            raise TypeError("SavedModel needs a config")
        if handle is None:
            handle = ModuleHandle(module)
        elif module is not None:
            raise TypeError("give SavedModel a module or a handle, not both")
        self.config = config
        self.path = Path(path)
        self.sha256 = sha256
        self.handle = handle

    @property
    def module(self) -> Any:
        """The network (torch module), built on first access for a lazily loaded model."""
        return self.handle.get()

    @property
    def classes(self) -> tuple[str, ...]:
        """Output class names, background first."""
        return self.config.classes


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def build_model(config: ModelConfig, pm: pluggy.PluginManager | None = None) -> Any:
    """Build an untrained network for ``config`` through the architecture hook.

    ``pm`` supplies the architectures (default:
    :func:`~visionkit.plugins.default_plugin_manager`).

    Raises:
        ModelError: the architecture or encoder is unknown (lists valid names).
    """
    from visionkit.plugins import default_plugin_manager, get_architecture_spec

    pm = pm if pm is not None else default_plugin_manager()
    try:
        spec = get_architecture_spec(config.architecture, pm)
        return spec.build(
            in_channels=config.in_channels, classes=len(config.classes), **config.params
        )
    except UnknownNameError as exc:
        raise ModelError(str(exc)) from exc


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_model(
    module: Any,
    folder: str | os.PathLike[str],
    config: ModelConfig,
    *,
    card: str | None = None,
) -> Path:
    """Write ``module``'s weights, ``config.json`` and a model card to ``folder``.

    Files are written under temporary names and renamed, so an interrupted
    save never leaves weights that do not match their config.
    """
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    tmp = out / f".{WEIGHTS_FILE}.part"
    save_file(state, str(tmp), metadata={"architecture": config.architecture})
    os.replace(tmp, out / WEIGHTS_FILE)
    _atomic_write_text(out / CONFIG_FILE, json.dumps(config.to_dict(), indent=2) + "\n")
    _atomic_write_text(out / MODEL_CARD_FILE, card or _default_card(config))
    logger.debug("saved model %s to %s", config.name, out)
    return out


def write_config(folder: str | os.PathLike[str], config: ModelConfig) -> Path:
    """Replace ``folder``'s ``config.json`` with ``config``, atomically; the weights stay."""
    path = Path(folder) / CONFIG_FILE
    _atomic_write_text(path, json.dumps(config.to_dict(), indent=2) + "\n")
    return path


def _default_card(config: ModelConfig) -> str:
    return (
        f"# {config.name} (version {config.version})\n\n"
        f"Architecture `{config.architecture}` with {json.dumps(config.params)}; "
        f"classes {', '.join(config.classes)}; working scale {config.scale}.\n"
    )


def load_model(
    path: str | os.PathLike[str],
    *,
    device: str = "cpu",
    pm: pluggy.PluginManager | None = None,
    lazy: bool = False,
) -> SavedModel:
    """Rebuild a model from its folder, in eval mode.

    ``pm`` supplies the architecture named in ``config.json`` (default:
    :func:`~visionkit.plugins.default_plugin_manager`).

    With ``lazy``, the config, the architecture's name and the weights file's
    header are checked now, and the network is built and its weights checked
    and loaded on first access of :attr:`SavedModel.module`, so a model run
    from a cached ONNX export (keyed by the weights' sha256, which is
    computed now) never imports torch: ``visionkit predict`` starts seconds
    sooner. A mismatch between weights and architecture is then raised by
    that first access.

    Raises:
        ModelError: the folder, config or weights are missing or malformed, or
            the weights do not fit the architecture (names the tensors).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder; give a folder holding {CONFIG_FILE}")
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    for required in (config_path, weights_path):
        if not required.is_file():
            raise ModelError(
                f"{folder}: missing {required.name}; is this a visionkit model folder?"
            )
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{config_path}: not valid JSON ({exc})") from exc
    config = ModelConfig.from_dict(raw, source=str(config_path))
    sha256 = file_sha256(weights_path)
    if not lazy:
        module = _build_loaded(config, weights_path, device=device, pm=pm)
        return SavedModel(module, config, folder, sha256)
    _check_architecture(config, pm)
    _check_weights_header(weights_path)
    handle = ModuleHandle(build=lambda: _build_loaded(config, weights_path, device=device, pm=pm))
    return SavedModel(config=config, path=folder, sha256=sha256, handle=handle)


def _check_architecture(config: ModelConfig, pm: pluggy.PluginManager | None) -> None:
    """Fail now, listing the valid names, when ``config``'s architecture is not registered."""
    from visionkit.plugins import default_plugin_manager, get_architecture_spec

    pm = pm if pm is not None else default_plugin_manager()
    try:
        get_architecture_spec(config.architecture, pm)
    except UnknownNameError as exc:
        raise ModelError(str(exc)) from exc


def _check_weights_header(weights_path: Path) -> None:
    """Read the safetensors header (its length, then JSON) without torch.

    Raises:
        ModelError: the file is not safetensors (truncated, another format).
    """
    try:
        with open(weights_path, "rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise ValueError("shorter than a safetensors header")
            (length,) = struct.unpack("<Q", prefix)
            if length > weights_path.stat().st_size - 8:
                raise ValueError(f"header length {length} exceeds the file")
            header = json.loads(handle.read(length))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{weights_path}: unreadable weights ({exc})") from exc


def _build_loaded(
    config: ModelConfig, weights_path: Path, *, device: str, pm: pluggy.PluginManager | None
) -> Any:
    """The network of ``config`` with the weights of ``weights_path``, checked, in eval mode."""
    module = build_model(config, pm)

    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights_path), device=device)
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{weights_path}: unreadable weights ({exc})") from exc
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f"missing {len(missing)} tensors (e.g. {missing[0]})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            details.append(
                f"{len(wrong)} tensors of the wrong shape (e.g. {k}: "
                f"{tuple(state[k].shape)} in the file, {tuple(expected[k].shape)} expected)"
            )
        raise ModelError(
            f"{weights_path}: weights do not match {config.architecture} in {CONFIG_FILE}: "
            + "; ".join(details)
        )
    module.load_state_dict(state)
    module.to(device)
    module.eval()
    logger.debug("built %s from %s", config.architecture, weights_path)
    return module
