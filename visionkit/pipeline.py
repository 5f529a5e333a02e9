"""From plate images to robot-ready predictions: :func:`predict` and :class:`Pipeline`.

::

    import visionkit

    prediction = visionkit.predict("plate_001.png", "models/root-unet")
    for plant in prediction.plants:
        print(plant.plant, plant.tip)

    with visionkit.Pipeline("plates/", "models/root-unet", ["json", "csv"], out_dir="out") as run:
        for result in run:
            ...

One image goes through: read (pixel limit), dish detection and crop,
segmentation at the model's resolution whatever the camera's
(:func:`visionkit.inference.segment_image`), the image-level
out-of-distribution check, landmarks (primary-root start and tip per plant),
mapping everything back to the input image's pixels, optional robot
calibration, and the output adapters. The result is a
:class:`~visionkit.prediction.Prediction` as in the prediction contract:

- coordinates are pixels of the input image as given;
- plants are numbered 1..N from left to right; fewer than
  ``expected_plants`` adds a warning; a plant whose root was not found is
  listed with ``tip=None`` and a reason; a plate with no plant at all lists
  ``expected_plants`` such plants, so nothing is ever made up;
- ``mask_arrays`` hold the root, shoot and seed masks at the input's size,
  0 and 255;
- ``confidence`` holds ``image`` (1 - out-of-distribution score, lowered
  where the dish was not measured or the plate is below the model's
  resolution: :mod:`visionkit.inference.resolution`) and the class
  confidences ``root``, ``shoot``, ``seed``, all in [0, 1] (see
  :mod:`visionkit.inference` for their meaning); each tip and start carries
  the landmark finder's confidence (see :mod:`visionkit.landmarks.confidence`);
  with ``tta`` the tips found on each flipped pass are compared, and a tip
  that moves between passes gets a lower confidence;
- ``timing_ms`` holds ``total``, ``read``, ``dish``, ``segment`` and
  ``landmarks``.

Defaults are chosen for speed on a CPU (see ``benchmarks/bench_predict.py``):
ONNX Runtime, the model's working resolution, tiles of at most 768 working
pixels two at a time; every setting is a field of
:class:`~visionkit.settings.PredictSettings`. The first ONNX run exports the
model once to a cache keyed by its weights (:mod:`visionkit.inference.runtime`).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from visionkit.calibration import Calibration
from visionkit.exceptions import AdapterError, ModelError, VisionkitError
from visionkit.frame import Frame
from visionkit.prediction import DishInfo, Keypoint, ModelInfo, Plant, Prediction
from visionkit.settings import PredictSettings
from visionkit.tracing import span

if TYPE_CHECKING:
    import pluggy

    from visionkit.adapters.base import Adapter
    from visionkit.inference.runtime import Runtime
    from visionkit.inference.segment import SegmentationResult
    from visionkit.landmarks import Landmarks, PlantLandmarks
    from visionkit.landmarks.tip_calibration import TipCalibration
    from visionkit.modelfolder import SavedModel
    from visionkit.sources.base import Source

__all__ = [
    "DEFAULT_MODEL_DIR",
    "MASK_CLASSES",
    "Pipeline",
    "PipelineResult",
    "Predictor",
    "load_calibration",
    "make_adapters",
    "predict",
    "resolve_model",
]

logger = logging.getLogger(__name__)

#: Where ``predict(model=None)`` looks for the default model.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"

#: The classes a model must have for :func:`predict`; their masks are returned.
MASK_CLASSES: tuple[str, ...] = ("root", "shoot", "seed")

_MODEL_CACHE: dict[tuple[str, int, int], SavedModel] = {}


def resolve_model(
    model: str | os.PathLike[str] | SavedModel | None, *, pm: pluggy.PluginManager | None = None
) -> SavedModel:
    """A loaded model from a folder path, a :class:`SavedModel`, or ``None`` (the default).

    Folders are loaded once per process (again when their weights change),
    lazily: the network is built only when a runtime needs it, never when a
    cached ONNX export serves (:func:`~visionkit.modelfolder.load_model`);
    ``pm`` is the plugin manager whose architectures rebuild the network.

    Raises:
        ModelError: the default model is not installed, the folder is not a
            model, or the model lacks the root, shoot or seed class.
    """
    from visionkit.modelfolder import CONFIG_FILE, WEIGHTS_FILE, SavedModel, load_model

    if isinstance(model, SavedModel):
        loaded = model
    else:
        folder = DEFAULT_MODEL_DIR if model is None else Path(model)
        if model is None and not (folder / CONFIG_FILE).is_file():
            raise ModelError(
                f"no default model is installed at {folder}; train one "
                f"(see docs: `visionkit train`) and save it there, or pass a model folder "
                f"with --model FOLDER (CLI) or model=FOLDER (Python)"
            )
        weights = folder / WEIGHTS_FILE
        stat = weights.stat() if weights.is_file() else None
        key = (str(folder.resolve()), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
        if key not in _MODEL_CACHE:
            _MODEL_CACHE[key] = load_model(folder, pm=pm, lazy=True)
        loaded = _MODEL_CACHE[key]
    missing = [name for name in MASK_CLASSES if name not in loaded.config.classes]
    if missing:
        raise ModelError(
            f"model {loaded.config.name!r} ({loaded.path}) has classes "
            f"{list(loaded.config.classes)}, but predicting root tips needs "
            f"{', '.join(MASK_CLASSES)} (missing: {', '.join(missing)}); "
            f"use a root/shoot/seed segmentation model"
        )
    return loaded


#: The calibration resolver under its earlier name: :meth:`Calibration.resolve`
#: (an object, a YAML/JSON file, or a preset name such as ``"ot2"``).
load_calibration = Calibration.resolve


def _settings(settings: PredictSettings | None, overrides: dict[str, Any]) -> PredictSettings:
    """``settings`` (the defaults when ``None``) with ``overrides`` applied and checked."""
    base = settings if settings is not None else PredictSettings()
    return base.replace(**overrides) if overrides else base


#: The classes landmarks are found on (a model without ``occluded_root`` gives ``None``).
_LANDMARK_CLASSES: tuple[str, ...] = ("root", "shoot", "seed", "occluded_root")


def _class_maps(classes: Sequence[str], probabilities: np.ndarray) -> dict[str, np.ndarray | None]:
    """The float32 ``(h, w)`` map of each landmark class, ``None`` where the model lacks it."""
    return {
        name: np.asarray(probabilities[list(classes).index(name)], dtype=np.float32)
        if name in classes
        else None
        for name in _LANDMARK_CLASSES
    }


def _find_landmarks(
    seg: SegmentationResult, *, expected_plants: int, threshold: float
) -> Landmarks:
    """Each plant's landmarks in working pixels, from :func:`visionkit.landmarks.find_landmarks`.

    With TTA, the tips found on each pass's maps are handed over as
    ``tip_agreement``: tips that move between passes lower ``tip_confidence``.
    The root support is the one found on the (mean) probabilities.
    """
    from visionkit.landmarks import find_landmarks

    def run(probabilities: np.ndarray, agreement: list[tuple[float, float]] | None) -> Landmarks:
        maps = _class_maps(seg.classes, probabilities)
        return find_landmarks(
            maps["root"],  # type: ignore[arg-type]
            maps["shoot"],  # type: ignore[arg-type]
            maps["seed"],
            expected_plants=expected_plants,
            px_per_mm=seg.working_px_per_mm,
            threshold=threshold,
            occluded_prob=maps["occluded_root"],
            tip_agreement=agreement,
        )

    agreement: list[tuple[float, float]] | None = None
    if seg.passes:
        agreement = [
            plant.tip
            for probs in seg.passes
            for plant in run(probs, None).plants
            if plant.tip is not None
        ]
    return run(seg.probabilities, agreement)


def _resolution_keep(seg: SegmentationResult) -> float:
    """How much the plate's resolution leaves of the image confidence (1 when it is fine).

    Lower where the dish was not measured (its scale is assumed) and for a
    plate far below the model's resolution (:mod:`visionkit.inference.resolution`).
    """
    return 1.0 if seg.resolution is None else seg.resolution.keep()


def _clip01(value: float | None) -> float:
    number = 0.0 if value is None else float(value)
    return min(1.0, max(0.0, number)) if np.isfinite(number) else 0.0


def _keypoint(
    seg: SegmentationResult, point: tuple[float, float] | None, confidence: float
) -> Keypoint | None:
    if point is None:
        return None
    x, y = seg.to_input_xy(np.asarray(point, dtype=np.float64)[:2])
    return Keypoint(float(x), float(y), _clip01(confidence))


def _input_length(seg: SegmentationResult, found: PlantLandmarks) -> float | None:
    """Primary-root length in input pixels: the path mapped back, or the length rescaled."""
    if len(found.path) >= 2:
        points = seg.to_input_xy(np.asarray(found.path, dtype=np.float64)[:, :2])
        return float(np.hypot(*np.diff(points, axis=0).T).sum())
    if found.length_px is None:
        return None
    return float(found.length_px) / float(np.mean(seg.scale_xy))


def _input_path(
    seg: SegmentationResult, found: PlantLandmarks, tip: tuple[float, float] | None
) -> np.ndarray | None:
    """The primary root's path in input pixels, ending at ``tip`` (``None`` without a tip)."""
    if tip is None or len(found.path) < 2:
        return None
    path = np.asarray(seg.to_input_xy(np.asarray(found.path, np.float64)[:, :2]), np.float64)
    path[-1] = tip
    return path


@dataclass(frozen=True)
class _ImageTip:
    """What the input image says about one plant's tip.

    Attributes:
        tip: the tip in input pixels, placed or followed on the image;
            ``None`` maps the working tip.
        followed_px: root length followed on the image beyond the map's tip.
        factors: the doubts read on the image (``tip_trail``, ``tip_followed``).
    """

    tip: tuple[float, float] | None = None
    followed_px: float = 0.0
    factors: dict[str, float] = field(default_factory=dict)


def _read_on_image(
    seg: SegmentationResult, ordered: Sequence[PlantLandmarks], image: np.ndarray, px_per_mm: float
) -> list[_ImageTip]:
    """Each plant's tip read on the full-resolution input image.

    A short root's tip is placed on the image
    (:func:`~visionkit.landmarks.fine_tip.refine_short_tips`); a root the
    image shows going on beyond its tip is followed there
    (:func:`~visionkit.landmarks.follow.follow_trail`, ``tip_followed``);
    then whatever trail is left beyond the tip is ``tip_trail``
    (:mod:`visionkit.landmarks.trail`).
    """
    from visionkit.landmarks.fine_tip import refine_short_tips
    from visionkit.landmarks.follow import FOLLOWED_FACTOR, follow_trail
    from visionkit.landmarks.polyline import arc_length
    from visionkit.landmarks.trail import trail_factor, trail_ratio

    fine = refine_short_tips(ordered, image, to_input=seg.to_input_xy, input_px_per_mm=px_per_mm)
    found: list[_ImageTip] = []
    for item, tip in zip(ordered, fine, strict=True):
        path = _input_path(seg, item, tip)
        if path is None:
            found.append(_ImageTip(tip, 0.0, {"tip_trail": 1.0, "tip_followed": 1.0}))
            continue
        followed = follow_trail(path, image, px_per_mm=px_per_mm)
        extra = arc_length(followed[len(path) - 1 :]) if len(followed) > len(path) else 0.0
        factors = {
            "tip_trail": trail_factor(trail_ratio(followed, image, px_per_mm=px_per_mm)),
            "tip_followed": FOLLOWED_FACTOR if extra else 1.0,
        }
        end = (float(followed[-1, 0]), float(followed[-1, 1]))
        found.append(_ImageTip(end, float(extra), factors))
    return found


def _tip_calibration(config: Mapping[str, Any]) -> TipCalibration | None:
    """The model's fitted tip calibration, or ``None`` (the raw product of the factors)."""
    if not config:
        return None
    from visionkit.landmarks.tip_calibration import TipCalibration

    return TipCalibration.from_dict(config)


def _tip_factors(item: PlantLandmarks) -> dict[str, float]:
    """The ``tip_*`` factors of a plant's tip confidence."""
    return {k: float(v) for k, v in item.components.items() if k.startswith("tip_")}


def _plants(
    seg: SegmentationResult,
    found: Sequence[PlantLandmarks],
    expected_plants: int,
    image: np.ndarray | None = None,
    tips: TipCalibration | None = None,
) -> tuple[list[Plant], list[str]]:
    """Landmarks as contract plants in input pixels, numbered left to right, and warnings.

    With the input ``image`` (and a known resolution), each tip is read on it
    at full resolution (:func:`_read_on_image`): a late seedling's short root
    ends where the map's blur does, a fading root goes on beyond the map's
    end; the doubts read there multiply into the raw confidence. With
    ``tips`` (the model's fitted doubts), each tip's confidence is the fitted
    chance that it lies within 1 mm (lowered further where the fit was made
    for a risk), not the raw product.
    """
    warnings: list[str] = []
    if not found:
        warnings.append(
            f"no plants found (expected {expected_plants}); every tip is null, nothing was guessed"
        )
        empty = "no seedling found on the plate"
        return [Plant(i, None, None, reason=empty) for i in range(1, expected_plants + 1)], warnings
    mm_per_px = seg.mm_per_px
    ordered = sorted(found, key=lambda p: p.anchor[0])
    on_image = [_ImageTip() for _ in ordered]
    if image is not None and mm_per_px:
        on_image = _read_on_image(seg, ordered, image, 1.0 / mm_per_px)
    plants: list[Plant] = []
    for number, item in enumerate(ordered, start=1):
        read = on_image[number - 1]
        factors = _tip_factors(item)
        raw = item.tip_confidence
        if item.tip is not None:
            factors.update(read.factors)
            raw *= math.prod(read.factors.values())
        sure = raw if tips is None or item.tip is None else tips.apply(factors)
        tip = (
            Keypoint(float(read.tip[0]), float(read.tip[1]), _clip01(sure))
            if read.tip is not None
            else _keypoint(seg, item.tip, sure)
        )
        start = _keypoint(seg, item.start, item.start_confidence)
        mapped = _input_length(seg, item) if tip is not None else None
        length = mapped + read.followed_px if mapped is not None else None
        reason = item.reason or ("root tip not found" if tip is None else None)
        plants.append(
            Plant(
                plant=number,
                tip=tip,
                start=start,
                primary_root_length_px=length,
                primary_root_length_mm=length * mm_per_px if length and mm_per_px else None,
                reason=reason,
                tip_factors=factors,
            )
        )
    with_tip = sum(p.tip is not None for p in plants)
    if len(plants) < expected_plants:
        warnings.append(
            f"found {len(plants)} plants, expected {expected_plants}; they are numbered "
            f"1..{len(plants)} from left to right"
        )
    if with_tip < len(plants):
        warnings.append(f"root tip not found for {len(plants) - with_tip} of {len(plants)} plants")
    return plants, warnings


class Predictor:
    """A model ready to predict image after image (what :func:`predict` and :class:`Pipeline` use).

    Args:
        model: a model folder, a :class:`~visionkit.modelfolder.SavedModel`,
            or ``None`` for the default model.
        settings: how each prediction is made
            (:class:`~visionkit.settings.PredictSettings`; its defaults when
            ``None``).
        calibration: a :class:`~visionkit.calibration.Calibration`, a file or
            a preset name; fills each plant's ``robot``.
        pm: the plugin manager whose architectures rebuild the network
            (default: :func:`visionkit.plugins.default_plugin_manager`).
        **overrides: settings to change, by field name (``tta=True``,
            ``tile=512``...), applied with
            :meth:`~visionkit.settings.PredictSettings.replace` and checked
            like the rest.

    Raises:
        ModelError: see :func:`resolve_model`.
        SettingsError: an unknown setting or a value out of range.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | SavedModel | None = None,
        *,
        settings: PredictSettings | None = None,
        calibration: Calibration | str | os.PathLike[str] | None = None,
        pm: pluggy.PluginManager | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = _settings(settings, overrides)
        self.model = resolve_model(model, pm=pm)
        self.calibration = Calibration.resolve(calibration)
        self._runtime: Runtime | None = None

    def with_model(self, model: SavedModel) -> Predictor:
        """A predictor with every setting of this one, around another loaded model.

        For the same weights under another config (a refitted map offset,
        say); the runtime is built anew for it.
        """
        other = copy.copy(self)
        other.model = model
        other._runtime = None
        return other

    @property
    def model_info(self) -> ModelInfo:
        """The model's name, version and weights sha256, as in every prediction."""
        config = self.model.config
        return ModelInfo(config.name, str(config.version), self.model.sha256)

    def runtime(self) -> Runtime:
        """The runtime, built on first use (an ONNX export is cached by weights hash)."""
        if self._runtime is None:
            from visionkit.inference.runtime import get_runtime

            segment = self.settings.segment
            self._runtime = get_runtime(self.model, segment.backend, threads=segment.threads)
        return self._runtime

    def read(self, path: str | os.PathLike[str]) -> Frame:
        """Read one image file as a frame (pixel limit applied).

        Raises:
            ImageReadError: missing, unsupported or corrupt file.
            ImageTooLargeError: more pixels than the limit.
        """
        from visionkit.imageio import read_image

        with span("visionkit.read", image=Path(path).name):
            image, info = read_image(path, max_pixels=self.settings.max_pixels)
        file = Path(path)
        return Frame(image=image, source_id=str(file), metadata={"name": file.name, **info})

    def predict_frame(self, frame: Frame, *, read_ms: float = 0.0) -> Prediction:
        """The prediction for one frame (see the module docstring for what it holds)."""
        return self.predict_with_segmentation(frame, read_ms=read_ms)[0]

    def predict_with_segmentation(
        self, frame: Frame, *, read_ms: float = 0.0, masks: bool | None = None
    ) -> tuple[Prediction, SegmentationResult]:
        """The prediction for one frame and the segmentation it came from.

        Evaluation needs both; segmenting once serves the two. ``masks``
        overrides ``settings.masks``: a :class:`Pipeline` writing in the
        background passes ``False`` and has the writer thread fill
        ``mask_arrays`` from the segmentation (:meth:`fill_masks`).
        """
        config = self.model.config
        with span("visionkit.predict", image=frame.name, model=f"{config.name}:{config.version}"):
            return self._predict_with_segmentation(frame, read_ms=read_ms, masks=masks)

    @staticmethod
    def fill_masks(prediction: Prediction, seg: SegmentationResult) -> None:
        """Set ``prediction.mask_arrays`` to the root, shoot and seed masks at the input size."""
        prediction.mask_arrays = seg.masks_at_input_size(MASK_CLASSES)

    def _predict_with_segmentation(
        self, frame: Frame, *, read_ms: float, masks: bool | None = None
    ) -> tuple[Prediction, SegmentationResult]:
        from visionkit.imageio import check_image
        from visionkit.inference.ood import ood_score
        from visionkit.inference.segment import segment_image

        started = time.perf_counter()
        settings = self.settings
        image = check_image(frame.image, source=frame.source_id)
        seg = segment_image(
            self.model, image, settings.segment, dish=settings.dish, runtime=self.runtime()
        )
        warnings = list(seg.warnings)
        report = ood_score(
            image,
            seg.bbox if seg.dish is not None else None,
            dish_found=seg.dish is not None or settings.dish != "auto",
            ranges=self.model.config.extra.get("ood_ranges"),
        )
        if report.flagged:
            warnings.append(report.warning())

        landmarks_start = time.perf_counter()
        with span("visionkit.landmarks", expected_plants=settings.expected_plants) as step:
            found = _find_landmarks(
                seg, expected_plants=settings.expected_plants, threshold=settings.threshold
            )
            if settings.plant_roots_only:
                seg = dataclasses.replace(seg, root_support=found.root_support)
            plants, plant_warnings = _plants(
                seg,
                found.plants,
                settings.expected_plants,
                image=image,
                tips=_tip_calibration(self.model.config.tip_calibration),
            )
            step.set_attribute("visionkit.tips", sum(p.tip is not None for p in plants))
        landmarks_ms = (time.perf_counter() - landmarks_start) * 1000.0
        warnings.extend(plant_warnings)

        with_masks = settings.masks if masks is None else masks
        mask_arrays = seg.masks_at_input_size(MASK_CLASSES) if with_masks else {}
        image_confidence = report.confidence * _resolution_keep(seg)
        confidence = {"image": _clip01(image_confidence), **seg.class_confidence(MASK_CLASSES)}
        dish = None
        if seg.dish is not None and seg.dish.bbox is not None and seg.mm_per_px:
            dish = DishInfo(tuple(int(v) for v in seg.dish.bbox), float(seg.mm_per_px))  # type: ignore[arg-type]
        prediction = Prediction(
            image=frame.name,
            width=frame.width,
            height=frame.height,
            model=self.model_info,
            dish=dish,
            plants=plants,
            confidence=confidence,
            warnings=warnings,
            mask_arrays=mask_arrays,
        )
        if self.calibration is not None:
            prediction = self.calibration.apply(prediction)
        prediction.timing_ms = {
            "total": read_ms + (time.perf_counter() - started) * 1000.0,
            "read": read_ms,
            "dish": seg.timing_ms.get("dish", 0.0),
            "segment": seg.timing_ms.get("segment", 0.0),
            "landmarks": landmarks_ms,
        }
        for message in warnings:
            logger.warning("%s: %s", frame.name, message)
        return prediction, seg

    def predict(
        self, image_or_path: str | os.PathLike[str] | np.ndarray | Frame, *, name: str | None = None
    ) -> Prediction:
        """Predict one image given as a path, an array or a :class:`~visionkit.frame.Frame`."""
        started = time.perf_counter()
        if isinstance(image_or_path, Frame):
            frame = image_or_path
        elif isinstance(image_or_path, np.ndarray):
            frame = Frame(image=image_or_path, source_id=name or "image.png")
        else:
            frame = self.read(image_or_path)
        if name:
            frame.metadata["name"] = name
        read_ms = (time.perf_counter() - started) * 1000.0
        return self.predict_frame(frame, read_ms=read_ms)


def make_adapters(
    adapters: Sequence[str | Adapter] | str | None,
    out_dir: str | os.PathLike[str] | None,
    pm: pluggy.PluginManager | None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Adapter], list[Adapter]]:
    """Adapters from names (created in ``out_dir`` by ``pm``'s plugins) or objects.

    ``pm`` is the caller's plugin manager, so an adapter registered on it is
    found (``None``: :func:`visionkit.plugins.default_plugin_manager`).
    ``options`` maps an adapter's name to the keyword options it is created
    with (``visionkit predict --adapter-option ros.port=9091``).

    Returns:
        ``(every adapter, the ones created here)``; the caller closes the latter.
    """
    from visionkit.plugins import create_adapter

    if adapters is None:
        return [], []
    if isinstance(adapters, str):
        adapters = [a.strip() for a in adapters.split(",") if a.strip()]
    made: list[Adapter] = []
    every: list[Adapter] = []
    try:
        for item in adapters:
            if isinstance(item, str):
                adapter = create_adapter(
                    item, pm, out_dir=out_dir, **dict((options or {}).get(item, {}))
                )
                made.append(adapter)
                every.append(adapter)
            else:
                every.append(item)
    except Exception:
        for adapter in made:
            adapter.close()
        raise
    return every, made


def _adapter_names(adapters: Sequence[Adapter]) -> str:
    """``json,csv``: the adapters' names, for a span."""
    return ",".join(_adapter_name(a) for a in adapters)


def _adapter_name(adapter: Adapter) -> str:
    return str(getattr(adapter, "name", type(adapter).__name__))


def deliver(adapters: Sequence[Adapter], prediction: Prediction) -> Exception | None:
    """Give ``prediction`` to every adapter, even after one fails; the failure, if any.

    One adapter that cannot deliver (a robot bridge down, a full disk) must not
    cost the others their output: each is called in turn, and the failures are
    returned, the single one as it was raised, several as one
    :class:`AdapterError` naming each adapter. Unexpected errors (bugs) are
    logged with their traceback.
    """
    failures: list[tuple[str, Exception]] = []
    for adapter in adapters:
        try:
            adapter.write(prediction)
        except VisionkitError as exc:
            failures.append((_adapter_name(adapter), exc))
        except Exception as exc:
            logger.exception("adapter %s: unexpected error (please report it)",
                             _adapter_name(adapter))  # fmt: skip
            failures.append((_adapter_name(adapter), exc))
    if not failures:
        return None
    if len(failures) == 1:
        return failures[0][1]
    return AdapterError("; ".join(f"{name}: {exc}" for name, exc in failures))


def predict(
    image_or_path: str | os.PathLike[str] | np.ndarray | Frame,
    model: str | os.PathLike[str] | SavedModel | None = None,
    *,
    settings: PredictSettings | None = None,
    adapters: Sequence[str | Adapter] | str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    calibration: Calibration | str | os.PathLike[str] | None = None,
    name: str | None = None,
    pm: pluggy.PluginManager | None = None,
    **overrides: Any,
) -> Prediction:
    """Segment one plate image, find each plant's root tip, and deliver the result.

    Args:
        image_or_path: an image file, a ``uint8`` array, or a frame.
        model: a model folder, a loaded model, or ``None`` for the default
            model (``visionkit/models/default``).
        settings: how the prediction is made
            (:class:`~visionkit.settings.PredictSettings`; its defaults when
            ``None``).
        adapters: output adapters: names (``"json"``, ``["json", "csv"]``,
            ``"json,csv"``), created in ``out_dir`` and closed afterwards, or
            adapter objects, which stay open.
        out_dir: folder for adapters created by name.
        calibration: a calibration, file or preset name (e.g. ``"ot2"``).
        name: the image name in the prediction (default: the file name, or
            ``"image.png"`` for arrays).
        pm: the plugin manager for the model's architecture and the adapters
            named (default: :func:`visionkit.plugins.default_plugin_manager`).
        **overrides: settings to change by field name (``tta=True``,
            ``backend="torch"``, ``masks=False``...), as
            :meth:`~visionkit.settings.PredictSettings.replace` takes them.

    Returns:
        The :class:`~visionkit.prediction.Prediction` (with ``mask_arrays``).

    Raises:
        ImageError: the file is missing, not an image, or too large.
        ModelError: no model, or one that does not segment root/shoot/seed.
        AdapterError: an adapter could not deliver.
        SettingsError: an unknown setting or a value out of range.
    """
    from visionkit.plugins import default_plugin_manager

    settings = _settings(settings, overrides)
    pm = pm if pm is not None else default_plugin_manager()
    predictor = Predictor(model, settings=settings, calibration=calibration, pm=pm)
    prediction = predictor.predict(image_or_path, name=name)
    every, made = make_adapters(adapters, out_dir, pm)
    try:
        with span("visionkit.adapters", adapters=_adapter_names(every)):
            failure = deliver(every, prediction)
    finally:
        for adapter in made:
            adapter.close()
    if failure is not None:
        raise failure
    return prediction


@dataclass
class PipelineResult:
    """What happened to one frame of a :class:`Pipeline`.

    Attributes:
        source_id: the frame's file path, URL or camera id.
        prediction: the prediction, or ``None`` when the frame could not be predicted;
            set also when an adapter then failed to deliver it (the others did).
        error: why it failed (``None`` on success): reading, predicting, or delivering.
        frame: the frame itself (``None`` when it could not be read).
    """

    source_id: str
    prediction: Prediction | None = None
    error: BaseException | None = None
    frame: Frame | None = dataclasses.field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the frame was predicted and delivered."""
        return self.error is None


class Pipeline:
    """Stream frames from a source through a model to output adapters.

    Each frame is predicted and written to every adapter. A frame that
    fails (unreadable file, adapter error...) is logged and yielded as a
    :class:`PipelineResult` with its ``error``; the stream goes on unless
    ``stop_on_error`` is set. Use it as a context manager (or call
    :meth:`close`): adapters it created and the source are closed at the end.

    Args:
        source: a source object or a URI for :func:`visionkit.plugins.open_source`
            (file, folder, glob, camera, URL...).
        model: a model folder, a loaded model, ``None`` (the default model),
            or a ready :class:`Predictor`, which keeps its own settings and
            calibration.
        adapters: adapter names (created in ``out_dir``) or adapter objects.
        settings: how each frame is predicted (as for :class:`Predictor`).
        calibration: as for :class:`Predictor`.
        out_dir: folder for adapters created by name.
        stop_on_error: re-raise the first frame error instead of going on.
        pm: the plugin manager for the source, the model's architecture and
            the adapters (default: :func:`visionkit.plugins.default_plugin_manager`).
        frame_outputs: callables ``output(frame, prediction)`` run after the
            adapters for each predicted frame, e.g. an overlay writer
            (:class:`visionkit.overlay.OverlayWriter`); an error they raise is
            the frame's error, like an adapter's.
        overlap: how many frames' outputs (masks at the input size, adapters,
            ``frame_outputs``) may be finished in a background thread while
            the next frames are read and segmented; 0 (the default) finishes
            each frame before the next starts. With ``overlap``, the next image
            file is also read ahead, results still come in order, each one
            once its outputs are written (or failed), and ``stop_on_error``
            raises when the failed frame is yielded, by which time up to
            ``overlap`` later frames may have been predicted. Adapters are
            then called from the writer thread only, one frame at a time.
        **overrides: settings to change by field name, as for :class:`Predictor`.

    Raises:
        TypeError: ``settings``, ``calibration`` or overrides given with a
            ready :class:`Predictor` (they belong to it).
        ValueError: ``overlap`` is negative.
    """

    def __init__(
        self,
        source: Source | str,
        model: str | os.PathLike[str] | SavedModel | Predictor | None = None,
        adapters: Sequence[str | Adapter] | str | None = ("json",),
        *,
        settings: PredictSettings | None = None,
        calibration: Calibration | str | os.PathLike[str] | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        stop_on_error: bool = False,
        pm: pluggy.PluginManager | None = None,
        frame_outputs: Sequence[Callable[[Frame, Prediction], object]] = (),
        overlap: int = 0,
        **overrides: Any,
    ) -> None:
        from visionkit.plugins import default_plugin_manager, open_source

        if overlap < 0:
            raise ValueError(f"overlap must be 0 or more frames, got {overlap}")
        if isinstance(model, Predictor) and (
            settings is not None or calibration is not None or overrides
        ):
            raise TypeError(
                "Pipeline got a ready Predictor and settings, calibration or overrides "
                "as well; give them to the Predictor"
            )
        settings = _settings(settings, overrides)
        self.pm = pm if pm is not None else default_plugin_manager()
        self.predictor = (
            model
            if isinstance(model, Predictor)
            else Predictor(model, settings=settings, calibration=calibration, pm=self.pm)
        )
        self.source = open_source(source, self.pm) if isinstance(source, str) else source
        self.stop_on_error = stop_on_error
        self.frame_outputs = list(frame_outputs)
        self.overlap = overlap
        self.adapters, self._owned = make_adapters(adapters, out_dir, self.pm)
        self.results: list[PipelineResult] = []
        self._closed = False

    def _frames(self) -> Iterator[tuple[str, Frame | None, BaseException | None, float]]:
        """``(source id, frame, read error, read ms)``, going past unreadable files."""
        from visionkit.sources.files import ImageFilesSource

        source = self.source
        if isinstance(source, ImageFilesSource) and len(source.paths) > 1:
            for path in source.paths:
                single = type(source)(
                    [path], name=source.name, origin=source.origin, max_pixels=source.max_pixels
                )
                yield from self._read_all(single, str(path))
            return
        yield from self._read_all(source, getattr(source, "name", "source"))

    @staticmethod
    def _read_all(
        source: Any, label: str
    ) -> Iterator[tuple[str, Frame | None, BaseException | None, float]]:
        iterator = iter(source)
        while True:
            started = time.perf_counter()
            try:
                frame = next(iterator)
            except StopIteration:
                return
            except VisionkitError as exc:
                yield label, None, exc, 0.0
                return
            yield frame.source_id, frame, None, (time.perf_counter() - started) * 1000.0

    def __iter__(self) -> Iterator[PipelineResult]:
        """Predict and deliver frame after frame, yielding what happened to each."""
        if self.overlap > 0:
            yield from self._overlapped()
            return
        for source_id, frame, read_error, read_ms in self._frames():
            result, seg = self._predict(source_id, frame, read_error, read_ms, defer_masks=False)
            if result.prediction is not None:
                self._finish((result, seg))
            yield self._record(result)

    def _overlapped(self) -> Iterator[PipelineResult]:
        """:meth:`__iter__` with reading ahead and outputs written in a background thread."""
        from visionkit.background import BoundedWriter, read_ahead
        from visionkit.sources.files import ImageFilesSource

        frames: Iterator[tuple[str, Frame | None, BaseException | None, float]] = self._frames()
        if isinstance(self.source, ImageFilesSource):  # a camera's next frame is not read early
            frames = read_ahead(frames, depth=1)
        writer: BoundedWriter[tuple[PipelineResult, SegmentationResult | None], None]
        with BoundedWriter(self._finish, depth=self.overlap) as writer:
            try:
                for source_id, frame, read_error, read_ms in frames:
                    result, seg = self._predict(
                        source_id, frame, read_error, read_ms, defer_masks=True
                    )
                    if result.prediction is None:
                        for outcome in writer.drain():  # keep the order of results
                            yield self._record(self._outcome(outcome))
                        yield self._record(result)
                        continue
                    for outcome in writer.submit((result, seg)):
                        yield self._record(self._outcome(outcome))
                for outcome in writer.drain():
                    yield self._record(self._outcome(outcome))
            finally:
                if hasattr(frames, "close"):
                    frames.close()

    def _predict(
        self,
        source_id: str,
        frame: Frame | None,
        read_error: BaseException | None,
        read_ms: float,
        *,
        defer_masks: bool,
    ) -> tuple[PipelineResult, SegmentationResult | None]:
        """Predict one frame; with ``defer_masks`` the masks are left to :meth:`_finish`."""
        result = PipelineResult(source_id, frame=frame, error=read_error)
        seg = None
        if frame is None:
            return result, None
        try:
            masks = False if defer_masks else None
            result.prediction, seg = self.predictor.predict_with_segmentation(
                frame, read_ms=read_ms, masks=masks
            )
        except VisionkitError as exc:
            result.error = exc
        except Exception as exc:  # a bug must not stop a plate run: log it, go on
            logger.exception("%s: unexpected error (please report it)", source_id)
            result.error = exc
        if not defer_masks or not self.predictor.settings.masks:
            seg = None
        return result, seg

    def _finish(self, work: tuple[PipelineResult, SegmentationResult | None]) -> None:
        """Masks (when deferred), adapters and frame outputs of one predicted frame.

        Sets ``result.error`` to the first failure; every output is still tried.
        """
        result, seg = work
        prediction = result.prediction
        assert prediction is not None
        try:
            if seg is not None:
                self.predictor.fill_masks(prediction, seg)
            names = _adapter_names(self.adapters)
            with span("visionkit.adapters", adapters=names, image=prediction.image):
                failure = deliver(self.adapters, prediction)
        except VisionkitError as exc:
            failure = exc
        except Exception as exc:
            logger.exception("%s: unexpected error (please report it)", result.source_id)
            failure = exc
        for output in self.frame_outputs:
            if result.frame is None:
                break
            try:
                output(result.frame, prediction)
            except VisionkitError as exc:
                failure = failure or exc
            except OSError as exc:
                failure = failure or AdapterError(f"{prediction.image}: cannot write ({exc})")
            except Exception as exc:
                logger.exception("%s: unexpected error (please report it)", result.source_id)
                failure = failure or exc
        result.error = failure

    @staticmethod
    def _outcome(
        outcome: tuple[
            tuple[PipelineResult, SegmentationResult | None], None, BaseException | None
        ],
    ) -> PipelineResult:
        """The result a background job finished; an error escaping :meth:`_finish` is its error."""
        (result, _), _, error = outcome
        if error is not None:
            result.error = error
        return result

    def _record(self, result: PipelineResult) -> PipelineResult:
        """Log a failure, keep the result, and raise it with ``stop_on_error``."""
        if result.error is not None:
            logger.info("%s: %s", result.source_id, result.error)  # the caller reports it
            if self.stop_on_error:
                self.results.append(result)
                raise result.error
        self.results.append(result)
        return result

    def run(self) -> list[PipelineResult]:
        """Process the whole stream; returns every frame's result."""
        for _ in self:
            pass
        return self.results

    @property
    def errors(self) -> list[PipelineResult]:
        """The results of the frames that failed so far."""
        return [r for r in self.results if r.error is not None]

    def close(self) -> None:
        """Close the adapters this pipeline created and the source; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        failures: list[BaseException] = []
        for adapter in self._owned:
            try:
                adapter.close()
            except VisionkitError as exc:
                failures.append(exc)
        self.source.close()
        if failures:
            raise failures[0]

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
