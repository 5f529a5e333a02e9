"""Score a model on full labelled plates: :func:`evaluate`.

Each plate of a Hades-convention folder goes through the real inference,
exactly as a robot would use it: dish detection and crop, tiled
segmentation at the working scale (:func:`visionkit.inference.segment_image`),
landmarks mapped back to the input image (:mod:`visionkit.pipeline`). Then

segmentation
    the predicted masks at the input image's size are compared with the
    ground-truth masks pixel by pixel. Pixel counts are accumulated into one
    :class:`~visionkit.training.metrics.ConfusionMatrix` over all plates (the
    same scores training validates with), so per-class IoU, F1, precision
    and recall weigh every pixel equally; per-plate scores are kept too.
landmarks
    where ``<stem>.landmarks.json`` exists, predicted plants are matched to
    the true ones (:mod:`~visionkit.evaluation.matching`) and scored
    (:mod:`~visionkit.evaluation.landmark_metrics`). Millimetres use the
    ground truth's dish scale, else the detected dish's.
calibration
    the root probability of every working pixel inside the segmented region
    is scored one-vs-rest against the share of root among the input pixels
    it covers (exact when the working scale is 1). Nothing is sampled: the
    reliability bins only keep sums (:mod:`~visionkit.evaluation.calibration_metrics`).
temperature (``fit_temperature=True``)
    logits are recovered from the stored probabilities as
    ``T_model * log(p)`` (softmax is blind to the constant lost), a uniform
    random sample of working pixels is kept per plate (up to
    :data:`TEMPERATURE_PIXELS` in all; uniform, so the fit's likelihood is the
    plates' own, not one tilted towards roots), and
    :func:`visionkit.inference.temperature.fit_temperature` finds the
    temperature. It is *written into a copy of the model*:
    ``out_dir/calibrated_model/`` holds the same weights with ``temperature``
    replaced in ``config.json``, ready for ``--model``; the original folder
    is never touched. With TTA the blended probabilities are averaged over
    flips, so the recovered logits are an approximation.
mask thresholds (``fit_masks=True``)
    for root, shoot and seed, the margin threshold of best F1 over the
    plates (:mod:`~visionkit.evaluation.mask_fit`), written into the same
    copy of the model as ``mask_thresholds``, with the fitted ``map_offset``
    (the model's maps registered with the image). When the offset moves, the
    plates are run a second time under it and the thresholds counted again,
    so the copy's thresholds fit its offset. Fit on held-out plates, not on
    the test set the model is then judged on.
tip doubts (``fit_tips=True``)
    every predicted tip's raw confidence factors, with whether it landed
    within the tolerance of its true tip (a plant matching no true plant
    counts as off), fit the strength of each doubt
    (:func:`~visionkit.landmarks.tip_calibration.fit_tip_calibration`),
    written into the same copy of the model as ``tip_calibration``: its tips'
    confidences then read as the chance of lying within 1 mm, or, with
    ``tip_risk``, are lowered until at most that share of the confident tips
    are off. Held-out plates only, like the rest.

``out_dir`` receives ``report.json``, ``summary.txt``, ``per_class.png``,
``reliability.png`` and ``tip_errors.png``; the run is logged to MLflow in
the experiment ``evaluation``, tagged with the model's sha256 and the data
version of :func:`visionkit.data.build_manifest`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from visionkit.data.dish import NOMINAL_PX_PER_MM
from visionkit.evaluation.calibration_metrics import DEFAULT_BINS, ReliabilityAccumulator
from visionkit.evaluation.landmark_metrics import (
    CONFIDENT_TIP,
    TOLERANCE_MM,
    PlantError,
    far_tips,
    plant_errors,
    summarize_landmarks,
)
from visionkit.evaluation.matching import Matching, PlantPoints, match_plants
from visionkit.evaluation.report import EvaluationReport
from visionkit.exceptions import ModelError
from visionkit.inference.runtime import resolve_backend
from visionkit.settings import PredictSettings

if TYPE_CHECKING:
    import pluggy

    from visionkit.data import HadesDataset, Manifest
    from visionkit.data.dataset import Sample
    from visionkit.inference.segment import SegmentationResult
    from visionkit.landmarks.tip_calibration import TipSample
    from visionkit.modelfolder import SavedModel
    from visionkit.pipeline import Predictor
    from visionkit.prediction import Plant
    from visionkit.tracking import Tracker

__all__ = [
    "CALIBRATED_MODEL_DIR",
    "EXPERIMENT",
    "PLOT_FILES",
    "REPORT_FILE",
    "SUMMARY_FILE",
    "TEMPERATURE_PIXELS",
    "evaluate",
]

logger = logging.getLogger(__name__)

#: The MLflow experiment evaluations are logged to.
EXPERIMENT = "evaluation"
REPORT_FILE = "report.json"
SUMMARY_FILE = "summary.txt"
#: Plot name -> file in ``out_dir``.
PLOT_FILES = {
    "per_class": "per_class.png",
    "reliability": "reliability.png",
    "tip_errors": "tip_errors.png",
}
#: Where ``fit_temperature=True`` writes the model copy with the fitted temperature.
CALIBRATED_MODEL_DIR = "calibrated_model"
#: Working pixels kept for fitting the temperature, over all plates.
TEMPERATURE_PIXELS = 2_000_000

_MIN_PROBABILITY = 1e-7


def _open_data(data_dir: Path, classes: tuple[str, ...]) -> tuple[HadesDataset, Manifest]:
    """The labelled plates (checked once) and their data version."""
    from visionkit.data import HadesDataset, build_manifest
    from visionkit.data.convention import CLASSES
    from visionkit.data.validate import validate_folder

    data_classes = classes[1:]
    unknown = [c for c in data_classes if c not in CLASSES]
    if unknown:
        raise ModelError(
            f"the model's classes {list(classes)} include {unknown}, which have no masks in "
            f"the Hades convention ({', '.join(CLASSES)}); evaluate a root/shoot/seed model"
        )
    report = validate_folder(data_dir, classes=data_classes, require_masks=True)
    report.raise_for_problems()
    manifest = build_manifest(data_dir, classes=data_classes, report=report)
    dataset = HadesDataset(data_dir, classes=data_classes, require_masks=True, validate=False)
    return dataset, manifest


def _predicted_labels(seg: SegmentationResult, classes: tuple[str, ...]) -> np.ndarray:
    """The arg-max label map at the input image's size (label = model class index)."""
    width, height = seg.input_size
    labels = np.zeros((height, width), dtype=np.uint8)
    for name, mask in seg.masks_at_input_size(classes[1:]).items():
        labels[mask > 0] = classes.index(name)
    return labels


def _coverage(truth: np.ndarray, seg: SegmentationResult, label: int) -> np.ndarray:
    """Share of the input pixels under each working pixel that carry ``label``."""
    return seg.working_coverage(truth == label)


def _working_labels(truth: np.ndarray, seg: SegmentationResult, n_classes: int) -> np.ndarray:
    """Hard labels at working resolution: the class covering most of each working pixel."""
    shares = np.stack([_coverage(truth, seg, label) for label in range(n_classes)])
    return np.argmax(shares, axis=0).astype(np.int64)


@dataclass
class _TemperatureSamples:
    """A uniform random sample of working pixels: logits and hard labels."""

    per_plate: int
    seed: int = 0
    logits: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)

    def add(self, seg: SegmentationResult, truth: np.ndarray, temperature: float) -> None:
        n_classes = len(seg.classes)
        labels = _working_labels(truth, seg, n_classes).ravel()
        probs = np.asarray(seg.probabilities, dtype=np.float32).reshape(n_classes, -1)
        rng = np.random.default_rng(self.seed + len(self.logits))
        count = min(labels.size, self.per_plate)
        keep = np.sort(rng.choice(labels.size, size=count, replace=False))
        logits = temperature * np.log(np.maximum(probs[:, keep].T, _MIN_PROBABILITY))
        self.logits.append(logits.astype(np.float32))
        self.labels.append(labels[keep])

    def fit(self, model_temperature: float, root: int) -> dict[str, Any]:
        from visionkit.evaluation.calibration_metrics import expected_calibration_error
        from visionkit.inference.temperature import fit_temperature, softmax

        logits = np.concatenate(self.logits)
        labels = np.concatenate(self.labels)
        fitted = fit_temperature(logits, labels)
        truth = (labels == root).astype(np.float64)
        before = softmax(logits, axis=1, temperature=model_temperature)[:, root]
        after = softmax(logits, axis=1, temperature=fitted)[:, root]
        return {
            "model": model_temperature,
            "fitted": fitted,
            "pixels": int(labels.size),
            "root_ece_before": expected_calibration_error(before, truth),
            "root_ece_after": expected_calibration_error(after, truth),
        }


def _write_calibrated_copy(
    model: SavedModel,
    out_dir: Path,
    *,
    temperature: float | None,
    mask_thresholds: dict[str, float] | None,
    map_offset: tuple[float, float] | None = None,
    tip_calibration: dict[str, Any] | None = None,
) -> Path | None:
    """Copy the model folder with the fitted values in its config; ``None`` without a folder."""
    import json
    from dataclasses import replace

    from visionkit.modelfolder import CONFIG_FILE, MODEL_CARD_FILE, WEIGHTS_FILE

    source = Path(model.path)
    if not (source / WEIGHTS_FILE).is_file():
        logger.warning("the model has no folder to copy (%s); fitted values not written", source)
        return None
    target = out_dir / CALIBRATED_MODEL_DIR
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / WEIGHTS_FILE, target / WEIGHTS_FILE)
    if (source / MODEL_CARD_FILE).is_file():
        card = (source / MODEL_CARD_FILE).read_text(encoding="utf-8")
        if temperature is not None:
            card += (
                f"\n\nTemperature set to {temperature:.4f} by `visionkit evaluate "
                f"--fit-temperature` (was {model.config.temperature}).\n"
            )
        if mask_thresholds is not None:
            card += (
                f"\n\nMask thresholds set to {mask_thresholds} by `visionkit evaluate "
                f"--fit-masks` (were {model.config.mask_thresholds or 'all 0'}).\n"
            )
        if map_offset is not None and tuple(map_offset) != tuple(model.config.map_offset):
            card += (
                f"\n\nMap offset set to {list(map_offset)} working pixels by `visionkit "
                f"evaluate --fit-masks` (was {list(model.config.map_offset)}).\n"
            )
        if tip_calibration is not None:
            card += (
                f"\n\nTip confidences calibrated by `visionkit evaluate --fit-tips`: "
                f"intercept {tip_calibration['intercept']:.3f}, doubt strengths "
                f"{tip_calibration['weights']}.\n"
            )
        (target / MODEL_CARD_FILE).write_text(card, encoding="utf-8")
    config = model.config
    if temperature is not None:
        config = replace(config, temperature=float(temperature))
    if mask_thresholds is not None:
        config = replace(config, mask_thresholds={**config.mask_thresholds, **mask_thresholds})
    if map_offset is not None:
        config = replace(config, map_offset=(float(map_offset[0]), float(map_offset[1])))
    if tip_calibration is not None:
        config = replace(config, tip_calibration=dict(tip_calibration))
    (target / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2) + "\n", "utf-8")
    return target


def _segment_and_find(
    predictor: Predictor, image: np.ndarray, name: str
) -> tuple[SegmentationResult, list[Plant], list[str]]:
    """Segment one plate and find its plants; warnings are logged under the plate's ``name``."""
    from visionkit.frame import Frame

    prediction, seg = predictor.predict_with_segmentation(Frame(image, name))
    return seg, prediction.plants, prediction.warnings


@dataclass(frozen=True)
class _Scoring:
    """How plates are scored: the model's classes and the landmark and calibration options."""

    classes: tuple[str, ...]
    tolerance_mm: float
    confident: float
    match_distance_mm: float
    bins: int
    progress: bool

    @property
    def root(self) -> int:
        """The root class's index."""
        return self.classes.index("root")

    def settings(self) -> dict[str, Any]:
        """The scoring options as the report's ``settings`` lists them."""
        return {
            "tolerance_mm": self.tolerance_mm,
            "confident": self.confident,
            "match_distance_mm": self.match_distance_mm,
            "bins": self.bins,
        }


def _tip_samples(
    matching: Matching, plants: list[Plant], tolerance_mm: float, mm_per_px: float | None
) -> list[TipSample]:
    """Each predicted tip's factors and whether it lies within ``tolerance_mm`` of its true tip."""
    from visionkit.landmarks.tip_calibration import TipSample

    if not mm_per_px:
        return []
    factors = {p.plant: p.tip_factors for p in plants if p.tip is not None}
    samples = []
    for pair in matching.pairs:
        truth, pred = pair.truth, pair.predicted
        if pred.tip is None or pred.plant not in factors or truth.tip is None:
            continue
        off = math.dist(truth.tip, pred.tip) * mm_per_px
        samples.append(TipSample(factors[pred.plant], off <= tolerance_mm))
    samples += [
        TipSample(factors[p.plant], False)
        for p in matching.spurious
        if p.tip is not None and p.plant in factors
    ]
    return samples


def _score_landmarks(
    sample: Sample,
    plants: list[Plant],
    seg: SegmentationResult,
    *,
    tolerance_mm: float,
    match_distance_mm: float,
) -> tuple[list[PlantError], list[float | None], int, float | None, int | None, list[TipSample]]:
    """A plate's per-plant errors, spurious tip confidences, predictions, scale, far tips
    and tip samples (for ``fit_tips``)."""
    landmarks = sample.landmarks or {}
    mm_per_px = (landmarks.get("dish") or {}).get("mm_per_px") or seg.mm_per_px
    mm_per_px = float(mm_per_px) if mm_per_px else None
    truth = [p for p in (PlantPoints.from_truth(r) for r in landmarks.get("plants", [])) if p]
    predicted = [p for p in (PlantPoints.from_plant(plant) for plant in plants) if p]
    px_per_mm = 1.0 / mm_per_px if mm_per_px else NOMINAL_PX_PER_MM
    matching = match_plants(truth, predicted, max_distance_px=match_distance_mm * px_per_mm)
    errors = plant_errors(
        matching, image=sample.path.name, mm_per_px=mm_per_px, tolerance_mm=tolerance_mm
    )
    spurious = [p.tip_confidence for p in matching.spurious]
    far = far_tips(matching, mm_per_px=mm_per_px)
    tips = _tip_samples(matching, plants, tolerance_mm, mm_per_px)
    return errors, spurious, len(predicted), mm_per_px, far, tips


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


def evaluate(
    model_path: str | os.PathLike[str] | SavedModel | None,
    data_dir: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    settings: PredictSettings | None = None,
    tracker: Tracker | None = None,
    limit: int | None = None,
    fit_temperature: bool = False,
    fit_masks: bool = False,
    fit_tips: bool = False,
    tip_risk: float | None = None,
    tolerance_mm: float = TOLERANCE_MM,
    confident: float = CONFIDENT_TIP,
    match_distance_mm: float = 5.0,
    bins: int = DEFAULT_BINS,
    plots: bool = True,
    progress: bool = True,
    on_plate: Callable[[int, int], None] | None = None,
    pm: pluggy.PluginManager | None = None,
) -> EvaluationReport:
    """Score a model on the full labelled plates of ``data_dir`` (see the module docstring).

    Args:
        model_path: a model folder, a loaded model, or ``None`` for the
            default model (``visionkit/models/default``).
        data_dir: a folder in the Hades mask convention (masks required;
            ``<stem>.landmarks.json`` optional).
        out_dir: where the report, summary and plots go (created).
        settings: how each plate is predicted, as for :func:`visionkit.predict`
            (:class:`~visionkit.settings.PredictSettings`; its defaults when
            ``None``). Masks at input size are computed for scoring whatever
            ``masks`` says; with ``plant_roots_only`` root masks are scored
            limited to the plants' root systems, as predictions deliver them.
        tracker: where to log; ``None`` logs to MLflow (experiment
            ``evaluation``); pass :class:`visionkit.tracking.Tracker()` to log nothing.
        limit: evaluate only the first ``limit`` plates (sorted by name).
        fit_temperature: fit temperature scaling and write a calibrated copy
            of the model to ``out_dir/calibrated_model``.
        fit_masks: fit each class's mask threshold (see the module
            docstring); written into the same copy of the model.
        fit_tips: fit the strength of each doubt about a tip (see the module
            docstring); written into the same copy of the model.
        tip_risk: with ``fit_tips``, the share of confident tips the fit
            may leave off on these plates (``None``: calibrated chances).
        tolerance_mm: the robot's tolerance (1 mm).
        confident: tip confidence from which a tip counts as confident (0.8).
        match_distance_mm: farthest a predicted plant's start may be from a
            true one's to be taken for it.
        bins: equal-width bins of the reliability diagram.
        plots: write the PNG plots.
        progress: show a progress bar over plates.
        on_plate: called with ``(plates done, plates in all)`` after each
            plate is scored (a job's progress); an exception it raises stops
            the evaluation and propagates (a cancelled job).
        pm: the plugin manager for the model's architecture (default:
            :func:`visionkit.plugins.default_plugin_manager`).

    Returns:
        The :class:`~visionkit.evaluation.report.EvaluationReport` (also in
        ``out_dir/report.json``).

    Raises:
        ModelError: no default model, or a model that does not segment root,
            shoot and seed.
        DatasetError: the folder is missing, empty or breaks the convention.
        ValueError: ``limit`` is below 1.
    """
    from visionkit.pipeline import Predictor
    from visionkit.tracking import MlflowTracker

    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    settings = (settings if settings is not None else PredictSettings()).replace(masks=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    predictor = Predictor(model_path, settings=settings, pm=pm)
    model = predictor.model
    scoring = _Scoring(
        tuple(model.config.classes),
        tolerance_mm=tolerance_mm,
        confident=confident,
        match_distance_mm=match_distance_mm,
        bins=bins,
        progress=progress,
    )
    dataset, manifest = _open_data(Path(data_dir), scoring.classes)
    count = len(dataset) if limit is None else min(limit, len(dataset))

    run = tracker if tracker is not None else MlflowTracker(EXPERIMENT)
    run.start(
        run_name=f"{model.config.name}-v{model.config.version}@{Path(data_dir).name}",
        tags=_run_tags(model, manifest.version, Path(data_dir)),
    )
    try:
        report = _evaluate_plates(
            predictor, dataset, count, scoring,
            fit_temperature=fit_temperature, fit_masks=fit_masks, fit_tips=fit_tips,
            tip_risk=tip_risk, on_plate=on_plate,
        )  # fmt: skip
        if report.mask_thresholds is not None:
            report.mask_thresholds = _thresholds_under_fitted_offset(
                predictor, report.mask_thresholds, dataset, count, scoring
            )
        report.mlflow_run_id = run.run_id
        report.model = _model_record(model)
        report.data = {
            "dir": str(data_dir),
            "version": manifest.version,
            "images": count,
            "images_in_folder": len(dataset),
        }
        report.settings = {**_settings_record(settings, model), "limit": limit}
        report.settings.update(scoring.settings())
        _write_fitted_copy(report, model, out)
        _write_outputs(report, out, plots=plots)
        _log_report(run, report, count)
    except BaseException:
        run.end("FAILED")
        raise
    run.end("FINISHED")
    return report


def _run_tags(model: SavedModel, data_version: str, data_dir: Path) -> dict[str, str]:
    """The tracker tags that tie a run to the model's weights and the data's version."""
    return {
        "model_sha256": model.sha256,
        "model_name": model.config.name,
        "model_version": str(model.config.version),
        "data_version": data_version,
        "data_dir": str(data_dir.resolve()),
    }


def _model_record(model: SavedModel) -> dict[str, Any]:
    """The report's ``model`` entry."""
    return {
        "name": model.config.name,
        "version": str(model.config.version),
        "sha256": model.sha256,
        "path": str(model.path),
        "temperature": float(model.config.temperature),
    }


def _settings_record(settings: PredictSettings, model: SavedModel) -> dict[str, Any]:
    """The prediction settings the report's ``settings`` entry lists.

    ``backend`` is the runtime that ran, the model's preference where the
    settings named none.

    ``scale`` is ``None`` where each plate's working scale was chosen from its
    dish (:mod:`visionkit.inference.resolution`); ``per_image`` holds each one.
    """
    segment = settings.segment
    return {
        "scale": segment.scale,
        "tta": segment.tta,
        "refine": segment.refine,
        "skip_empty": segment.skip_empty,
        "plant_roots_only": settings.plant_roots_only,
        "backend": resolve_backend(model, segment.backend),
    }


def _write_fitted_copy(report: EvaluationReport, model: SavedModel, out: Path) -> None:
    """Write the model copy with the fitted temperature and mask thresholds, if any were fit.

    Each fit in the report records where the copy went (``model_copy``).
    """
    temperature, masks, tips = report.temperature, report.mask_thresholds, report.tip_calibration
    if temperature is None and masks is None and (tips is None or "fitted" not in tips):
        return
    copy = _write_calibrated_copy(
        model,
        out,
        temperature=None if temperature is None else temperature["fitted"],
        mask_thresholds=None if masks is None else masks["fitted"],
        map_offset=None if masks is None else masks["map_offset"]["fitted"],
        tip_calibration=None if tips is None else tips.get("fitted"),
    )
    for fit in (temperature, masks, tips):
        if fit is not None:
            fit["model_copy"] = None if copy is None else str(copy)


def _log_report(run: Tracker, report: EvaluationReport, count: int) -> None:
    """Log the settings, the metrics and every written file to the tracker."""
    run.log_params({f"eval.{k}": v for k, v in report.settings.items()} | {"eval.images": count})
    run.log_metrics(report.metrics(), step=0)
    for path in report.files.values():
        run.log_artifact(path)


class _PlateScores:
    """Scores accumulated plate by plate: pixels, calibration, landmarks and the fits' data."""

    def __init__(
        self,
        scoring: _Scoring,
        *,
        temperature: float,
        count: int,
        fit_temperature: bool,
        fit_masks: bool,
        fit_tips: bool = False,
        tip_risk: float | None = None,
    ) -> None:
        from visionkit.evaluation.mask_fit import MaskThresholdFit
        from visionkit.training.metrics import ConfusionMatrix

        self.scoring = scoring
        self.temperature = temperature
        self.fit_temperature = fit_temperature
        self.mask_fit = MaskThresholdFit(scoring.classes) if fit_masks else None
        self.tip_samples: list[TipSample] | None = [] if fit_tips else None
        self.tip_risk = tip_risk
        self.total = ConfusionMatrix(len(scoring.classes))
        self.reliability = ReliabilityAccumulator(scoring.bins)
        self.samples = _TemperatureSamples(per_plate=max(1, TEMPERATURE_PIXELS // max(count, 1)))
        self.per_image: list[dict[str, Any]] = []
        self.errors: list[PlantError] = []
        self.spurious: list[float | None] = []
        self.n_predicted = 0
        self.with_landmarks = 0
        self.far_tips: int | None = None  # counted on the plates with a scale

    def add(
        self, sample: Sample, seg: SegmentationResult, plants: list[Plant], warnings: list[str]
    ) -> None:
        """Score one plate's segmentation and plants against its truth."""
        from visionkit.training.metrics import ConfusionMatrix

        classes = self.scoring.classes
        truth = sample.labels
        matrix = ConfusionMatrix(len(classes))
        matrix.update(_predicted_labels(seg, classes), truth)
        self.total.merge(matrix)
        self.reliability.update(seg.prob("root"), _coverage(truth, seg, self.scoring.root))
        if self.mask_fit is not None:
            self.mask_fit.add(seg, truth)
        if self.fit_temperature:
            self.samples.add(seg, truth, self.temperature)
        scores = {
            k: v
            for k, v in matrix.summary(classes).items()
            if k.endswith(("_f1", "_iou")) and not k.startswith("background")
        }
        record: dict[str, Any] = {
            "image": sample.path.name,
            "scale": float(seg.scale),
            "scores": _finite(scores),
            "plants_predicted": sum(p.tip is not None or p.start is not None for p in plants),
            "warnings": warnings,
        }
        if sample.landmarks is not None:
            record.update(self._add_landmarks(sample, plants, seg))
        self.per_image.append(record)

    def _add_landmarks(
        self, sample: Sample, plants: list[Plant], seg: SegmentationResult
    ) -> dict[str, Any]:
        """Match and score one plate's plants; returns the plate's landmark record."""
        self.with_landmarks += 1
        errors, spurious, predicted, mm_per_px, far, tips = _score_landmarks(
            sample,
            plants,
            seg,
            tolerance_mm=self.scoring.tolerance_mm,
            match_distance_mm=self.scoring.match_distance_mm,
        )
        self.errors += errors
        self.spurious += spurious
        if self.tip_samples is not None:
            self.tip_samples += tips
        self.n_predicted += predicted
        if far is not None:
            self.far_tips = (self.far_tips or 0) + far
        return {
            "plants_true": len(errors),
            "plants_missed": sum(e.predicted_plant is None for e in errors),
            "plants_spurious": len(spurious),
            "tips_far": far,
            "tip_errors_px": [e.tip_error_px for e in errors],
            "mm_per_px": mm_per_px,
        }

    def report(self, model: SavedModel) -> EvaluationReport:
        """The scores as a report; its model, data and settings are filled by the caller."""
        classes = self.scoring.classes
        landmarks = None
        if self.with_landmarks:
            landmarks = summarize_landmarks(
                self.errors,
                spurious_confidences=self.spurious,
                n_predicted=self.n_predicted,
                tolerance_mm=self.scoring.tolerance_mm,
                confident=self.scoring.confident,
                n_far_tips=self.far_tips,
            ).to_dict()
        fitted = None
        if self.fit_temperature and self.samples.labels:
            fitted = self.samples.fit(self.temperature, self.scoring.root)
        thresholds = None
        if self.mask_fit is not None and self.mask_fit.counts:
            config = model.config
            thresholds = self.mask_fit.result(dict(config.mask_thresholds), config.map_offset)
        tips = (
            None
            if self.tip_samples is None
            else _fit_tips(self.tip_samples, self.scoring, self.tip_risk)
        )
        return EvaluationReport(
            model={},
            data={},
            settings={},
            classes=list(classes),
            segmentation=self.total.summary(classes),
            confusion_matrix=self.total.matrix.tolist(),
            per_image=self.per_image,
            landmarks=landmarks,
            plants=[e.to_dict() for e in self.errors],
            calibration=self.reliability.result().to_dict(),
            temperature=fitted,
            mask_thresholds=thresholds,
            tip_calibration=tips,
            created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        )


def _fit_tips(
    samples: list[TipSample], scoring: _Scoring, risk: float | None = None
) -> dict[str, Any]:
    """The report's ``tip_calibration`` entry: the fit, or why there is none."""
    from visionkit.landmarks.tip_calibration import fit_tip_calibration

    try:
        fitted = fit_tip_calibration(samples, confident=scoring.confident, risk=risk)
    except ValueError as exc:
        logger.warning("tip confidences not fitted: %s", exc)
        return {"tips": len(samples), "error": str(exc)}
    return {"tips": len(samples), "fitted": fitted.to_dict()}


def _evaluate_plates(
    predictor: Predictor,
    dataset: HadesDataset,
    count: int,
    scoring: _Scoring,
    *,
    fit_temperature: bool,
    fit_masks: bool,
    fit_tips: bool = False,
    tip_risk: float | None = None,
    on_plate: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Run and score the first ``count`` plates, with a progress bar and ``on_plate`` calls."""
    from tqdm import tqdm

    scores = _PlateScores(
        scoring,
        temperature=float(predictor.model.config.temperature),
        count=count,
        fit_temperature=fit_temperature,
        fit_masks=fit_masks,
        fit_tips=fit_tips,
        tip_risk=tip_risk,
    )
    bar = tqdm(total=count, unit="plate", desc="evaluate", disable=not scoring.progress)
    try:
        for index in range(count):
            sample = dataset[index]
            scores.add(sample, *_segment_and_find(predictor, sample.image, sample.path.name))
            bar.update()
            if on_plate is not None:
                on_plate(index + 1, count)
    finally:
        bar.close()
    return scores.report(predictor.model)


def _thresholds_under_fitted_offset(
    predictor: Predictor,
    fit: dict[str, Any],
    dataset: HadesDataset,
    count: int,
    scoring: _Scoring,
) -> dict[str, Any]:
    """The mask-threshold fit, redone under the fitted map offset when it moved.

    Thresholds are counted on masks placed with the model's own offset; once
    the offset moves they belong to a model that is not the one written out.
    A second pass over the plates with the fitted offset counts them again
    (its own offset residual is kept as ``map_offset.residual_after``).
    """
    from dataclasses import replace

    offset = fit["map_offset"]
    if offset["fitted"] == offset["model"]:
        return {**fit, "passes": 1}
    logger.info(
        "map offset %s -> %s: fitting the mask thresholds again under it",
        offset["model"],
        offset["fitted"],
    )
    model = predictor.model
    fitted = (float(offset["fitted"][0]), float(offset["fitted"][1]))
    shifted = replace(model, config=replace(model.config, map_offset=fitted))
    second = _evaluate_plates(
        predictor.with_model(shifted),
        dataset,
        count,
        scoring,
        fit_temperature=False,
        fit_masks=True,
    ).mask_thresholds
    assert second is not None
    again = second["map_offset"]
    return {
        **second,
        "map_offset": {**offset, "residual_after": again["residual"]},
        "passes": 2,
    }


def _write_outputs(report: EvaluationReport, out: Path, *, plots: bool) -> None:
    """Write the plots, the summary and ``report.json`` (last, so it lists every file)."""
    from visionkit.evaluation import plots as draw

    if plots:
        report.files["per_class"] = str(
            draw.plot_per_class(report.segmentation, report.classes, out / PLOT_FILES["per_class"])
        )
        report.files["reliability"] = str(
            draw.plot_reliability(report.calibration, out / PLOT_FILES["reliability"])
        )
        with_mm = [p["tip_error_mm"] for p in report.plants if p["tip_error_mm"] is not None]
        with_px = [p["tip_error_px"] for p in report.plants if p["tip_error_px"] is not None]
        tolerance = float(report.settings.get("tolerance_mm", TOLERANCE_MM))
        if with_mm or not with_px:
            path = draw.plot_tip_errors(
                with_mm, out / PLOT_FILES["tip_errors"], tolerance_mm=tolerance
            )
        else:
            path = draw.plot_tip_errors(
                with_px,
                out / PLOT_FILES["tip_errors"],
                tolerance_mm=tolerance * NOMINAL_PX_PER_MM,
                unit="px",
            )
        report.files["tip_errors"] = str(path)
    summary = out / SUMMARY_FILE
    summary.write_text(report.summary_table() + "\n", encoding="utf-8")
    report.files["summary"] = str(summary)
    report.files["report"] = str(out / REPORT_FILE)
    report.write_json(out / REPORT_FILE)
