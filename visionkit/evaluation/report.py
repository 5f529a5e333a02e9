"""The result of an evaluation: one dataclass, written as ``report.json``.

:class:`EvaluationReport` gathers segmentation scores (accumulated over all
pixels of all plates, and per plate), landmark accuracy, the root
probabilities' calibration and the targets the project set itself
(:data:`TARGETS`), each marked PASS, FAIL or n/a (not measured, e.g. no
landmark files). :meth:`EvaluationReport.summary_table` is the readable
version that ``visionkit evaluate`` prints.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionkit.evaluation.landmark_metrics import CONFIDENT_TIP

__all__ = [
    "TARGETS",
    "EvaluationReport",
    "Target",
    "TargetResult",
    "check_targets",
]


@dataclass(frozen=True)
class Target:
    """A figure the model must reach.

    Attributes:
        name: what a person reads, e.g. ``"root F1"``.
        key: the metric's key in :meth:`EvaluationReport.metrics`.
        op: ``">="`` (at least) or ``"<="`` (at most).
        threshold: the bound.
        percent: show the value and bound as percentages.
    """

    name: str
    key: str
    op: str
    threshold: float
    percent: bool = False

    def passes(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return value >= self.threshold if self.op == ">=" else value <= self.threshold


#: The project's targets (DESIGN.md: the robot needs 1 mm; peers reach F1 0.80-0.85).
TARGETS: tuple[Target, ...] = (
    Target("root F1", "root_f1", ">=", 0.90),
    Target("shoot F1", "shoot_f1", ">=", 0.90),
    Target("seed F1", "seed_f1", ">=", 0.90),
    Target("tips within 1 mm", "tips_within_1mm", ">=", 0.90, percent=True),
    Target("root length sMAPE", "length_smape", "<=", 10.0),
    Target("root ECE", "root_ece", "<=", 0.05),
    Target("confident tips within 1 mm", "confident_tips_within_1mm", ">=", 0.95, percent=True),
)


@dataclass(frozen=True)
class TargetResult:
    """A target and how the model did: ``status`` is ``PASS``, ``FAIL`` or ``n/a``."""

    target: Target
    value: float | None

    @property
    def status(self) -> str:
        """``PASS``, ``FAIL``, or ``n/a`` when the figure was not measured."""
        if self.value is None or math.isnan(self.value):
            return "n/a"
        return "PASS" if self.target.passes(self.value) else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        value = None if self.value is None or math.isnan(self.value) else self.value
        return {
            "name": self.target.name,
            "metric": self.target.key,
            "op": self.target.op,
            "threshold": self.target.threshold,
            "value": value,
            "status": self.status,
        }


def check_targets(
    metrics: Mapping[str, float | None], targets: Sequence[Target] = TARGETS
) -> list[TargetResult]:
    """Each target with its value from ``metrics`` (missing keys are ``n/a``)."""
    return [TargetResult(t, metrics.get(t.key)) for t in targets]


def _clean(value: Any) -> Any:
    """``nan``/``inf`` to ``None``, recursively, so the JSON is strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _score(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.3f}"


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.1f} %" if percent else f"{value:.4g}"


def _misses(marks: dict[str, Any]) -> str:
    """The report's line on the tips that fail a robot, next to those within tolerance."""
    tolerance = marks.get("tolerance_mm", 1.0)
    far = marks.get("n_far_tips")
    far_text = (
        "n/a (no scale)"
        if far is None
        else (f"{far} ({marks.get('far_tips_per_60') or 0.0:.1f} per 60 plants)")
    )
    return (
        f"tips within {tolerance:g} mm: {_fmt(marks.get('tips_within_tolerance'), True)}; "
        f"> {marks.get('far_mm', 5.0):g} mm from every true tip: {far_text}; "
        f"confident > {tolerance:g} mm off: {marks.get('n_confident_off', 0)} of "
        f"{marks.get('n_confident_tips', 0)} "
        f"({_fmt(marks.get('confident_off_share'), True)})"
    )


@dataclass
class EvaluationReport:
    """Everything :func:`~visionkit.evaluation.evaluate.evaluate` measured.

    Attributes:
        model: ``name``, ``version``, ``sha256``, ``path``, ``temperature``.
        data: ``dir``, ``version`` (data version), ``images`` evaluated.
        settings: ``scale``, ``tta``, ``refine``, ``backend``, ``limit``.
        classes: the model's classes, background first.
        segmentation: flat scores over all pixels of all plates
            (``root_f1``, ``root_iou``, ``mean_f1``, ``accuracy``...).
        confusion_matrix: pixel counts, rows truth, columns prediction.
        per_image: per plate: ``image``, its working ``scale``, ``scores``,
            plant counts, warnings.
        landmarks: a :class:`~visionkit.evaluation.landmark_metrics.LandmarkSummary`
            as a dict, or ``None`` without landmark files.
        plants: every ground-truth plant's errors (``PlantError`` dicts).
        calibration: the root probabilities' reliability diagram and ECE.
        temperature: the fitted temperature, when asked for.
        mask_thresholds: the fitted mask thresholds and F1 per threshold,
            when asked for (:mod:`~visionkit.evaluation.mask_fit`).
        tip_calibration: the fitted strengths of the tip doubts, when asked
            for (:mod:`~visionkit.landmarks.tip_calibration`): ``tips``, and
            ``fitted`` (the model's new ``tip_calibration``) or ``error``.
        targets: each target's value and status.
        files: what was written (name -> path).
        created_at: when (UTC, ISO 8601).
        mlflow_run_id: the MLflow run, or ``None`` without tracking.
    """

    model: dict[str, Any]
    data: dict[str, Any]
    settings: dict[str, Any]
    classes: list[str]
    segmentation: dict[str, float]
    confusion_matrix: list[list[int]]
    per_image: list[dict[str, Any]] = field(default_factory=list)
    landmarks: dict[str, Any] | None = None
    plants: list[dict[str, Any]] = field(default_factory=list)
    calibration: dict[str, Any] = field(default_factory=dict)
    temperature: dict[str, Any] | None = None
    mask_thresholds: dict[str, Any] | None = None
    tip_calibration: dict[str, Any] | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    mlflow_run_id: str | None = None

    # -- figures -------------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """The headline figures as one flat dict of numbers (what MLflow gets).

        Segmentation scores keep their names (``root_f1``...); landmark
        figures are ``tips_within_1mm``, ``confident_tips_within_1mm``,
        ``confident_tips``, ``tip_error_mm_median``..., the misses
        ``tips_far_5mm`` (tips more than 5 mm from every true tip),
        ``tips_far_5mm_per_60`` (per 60 plants), ``confident_tips_off_1mm``
        and ``confident_tips_off_share`` (confident tips more than 1 mm off),
        and calibration ``root_ece``. Unmeasured figures are left out.
        """
        out: dict[str, float] = {}
        for key, value in self.segmentation.items():
            if value is not None and math.isfinite(value):
                out[key] = float(value)
        marks = self.landmarks or {}
        derived: dict[str, Any] = {
            "tips_within_1mm": marks.get("tips_within_tolerance"),
            "length_smape": marks.get("length_smape"),
            "confident_tips_within_1mm": marks.get("confident_within_tolerance"),
            "confident_tips": marks.get("n_confident_tips"),
            "confident_coverage": marks.get("confident_coverage"),
            "plants_missed": marks.get("n_missed"),
            "plants_spurious": marks.get("n_spurious"),
            "tips_far_5mm": marks.get("n_far_tips"),
            "tips_far_5mm_per_60": marks.get("far_tips_per_60"),
            "confident_tips_off_1mm": marks.get("n_confident_off"),
            "confident_tips_off_share": marks.get("confident_off_share"),
            "root_ece": self.calibration.get("ece"),
        }
        for stat in ("mean", "median", "p90"):
            for what in ("tip_error_px", "tip_error_mm", "start_error_mm"):
                derived[f"{what}_{stat}"] = (marks.get(what) or {}).get(stat)
        if self.temperature and self.temperature.get("fitted") is not None:
            derived["fitted_temperature"] = self.temperature["fitted"]
        for key, value in derived.items():
            if value is not None and math.isfinite(float(value)):
                out[key] = float(value)
        return out

    def target_results(self) -> list[TargetResult]:
        """The targets checked against :meth:`metrics`."""
        return check_targets(self.metrics())

    @property
    def passed(self) -> bool:
        """Whether no target failed (unmeasured ones do not fail)."""
        return all(r.status != "FAIL" for r in self.target_results())

    # -- output --------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready form (non-finite numbers become ``null``)."""
        return _clean(
            {
                "created_at": self.created_at,
                "model": self.model,
                "data": self.data,
                "settings": self.settings,
                "classes": self.classes,
                "metrics": self.metrics(),
                "targets": [r.to_dict() for r in self.target_results()],
                "passed": self.passed,
                "segmentation": self.segmentation,
                "confusion_matrix": self.confusion_matrix,
                "landmarks": self.landmarks,
                "calibration": self.calibration,
                "temperature": self.temperature,
                "mask_thresholds": self.mask_thresholds,
                "tip_calibration": self.tip_calibration,
                "per_image": self.per_image,
                "plants": self.plants,
                "files": self.files,
                "mlflow_run_id": self.mlflow_run_id,
            }
        )

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as indented JSON, atomically."""
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.part")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n", "utf-8")
        os.replace(tmp, file)
        return file

    @classmethod
    def read_json(cls, path: str | os.PathLike[str]) -> EvaluationReport:
        """Read a ``report.json`` written by :meth:`write_json`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            model=data["model"],
            data=data["data"],
            settings=data["settings"],
            classes=list(data["classes"]),
            segmentation={
                k: math.nan if v is None else float(v) for k, v in data["segmentation"].items()
            },
            confusion_matrix=data["confusion_matrix"],
            per_image=data.get("per_image", []),
            landmarks=data.get("landmarks"),
            plants=data.get("plants", []),
            calibration=data.get("calibration", {}),
            temperature=data.get("temperature"),
            mask_thresholds=data.get("mask_thresholds"),
            tip_calibration=data.get("tip_calibration"),
            files=data.get("files", {}),
            created_at=data.get("created_at", ""),
            mlflow_run_id=data.get("mlflow_run_id"),
        )

    def summary_table(self) -> str:
        """A plain-text summary: per-class scores, landmarks, calibration, targets."""
        lines = [
            f"model {self.model.get('name')} v{self.model.get('version')} "
            f"({str(self.model.get('sha256', ''))[:12]}) on {self.data.get('images')} plates "
            f"of {self.data.get('dir')} (data {str(self.data.get('version', ''))[:12]})",
            "",
            f"{'class':<15}{'IoU':>9}{'F1':>9}{'prec.':>9}{'recall':>9}",
        ]
        for cls in self.classes[1:]:
            row = [
                self.segmentation.get(f"{cls}_{s}") for s in ("iou", "f1", "precision", "recall")
            ]
            lines.append(f"{cls:<15}" + "".join(f"{_score(v):>9}" for v in row))
        marks = self.landmarks
        if marks:
            tip = marks.get("tip_error_mm") or {}
            lines += [
                "",
                f"plants: {marks.get('n_truth')} true, {marks.get('n_matched')} matched, "
                f"{marks.get('n_missed')} missed, {marks.get('n_spurious')} spurious, "
                f"{marks.get('n_tip_missing')} without a tip",
                f"tip error: median {_fmt(tip.get('median'))} mm, mean {_fmt(tip.get('mean'))} mm, "
                f"90th percentile {_fmt(tip.get('p90'))} mm",
                f"confident tips (>= {marks.get('confident_threshold', CONFIDENT_TIP)}): "
                f"{marks.get('n_confident_tips')}, covering "
                f"{_fmt(marks.get('confident_coverage'), True)} of the plants",
                _misses(marks),
            ]
        else:
            lines += ["", "landmarks: no <stem>.landmarks.json files, not measured"]
        lines += ["", f"{'target':<30}{'value':>10}  {'needs':<10}{'':>2}status"]
        for result in self.target_results():
            t = result.target
            bound = f"{t.op} {_fmt(t.threshold, t.percent)}"
            lines.append(
                f"{t.name:<30}{_fmt(result.value, t.percent):>10}  {bound:<10}  {result.status}"
            )
        return "\n".join(lines)
