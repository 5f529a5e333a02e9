"""Targets, the JSON report and the summary table; the plots are real PNG files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from visionkit.evaluation import TARGETS, EvaluationReport, ReliabilityAccumulator, check_targets
from visionkit.evaluation.plots import plot_per_class, plot_reliability, plot_tip_errors

CLASSES = ["background", "root", "shoot", "seed"]


def _report(**changes: object) -> EvaluationReport:
    acc = ReliabilityAccumulator()
    acc.update([0.9, 0.1], [1, 0])
    values: dict[str, object] = {
        "model": {"name": "m", "version": "2", "sha256": "a" * 64},
        "data": {"dir": "plates", "version": "b" * 64, "images": 3},
        "settings": {"scale": 0.5},
        "classes": CLASSES,
        "segmentation": {
            "root_f1": 0.93,
            "root_iou": 0.87,
            "shoot_f1": 0.80,
            "seed_f1": math.nan,
            "mean_f1": 0.865,
        },
        "confusion_matrix": [[1, 0], [0, 1]],
        "landmarks": {
            "tips_within_tolerance": 0.92,
            "length_smape": 12.5,
            "confident_within_tolerance": 0.97,
            "n_confident_tips": 10,
            "tip_error_mm": {"median": 0.3, "mean": 0.4, "p90": 0.8},
            "n_truth": 12,
            "far_mm": 5.0,
            "n_far_tips": 1,
            "far_tips_per_60": 5.0,
            "n_confident_off": 1,
            "confident_off_share": 0.1,
        },
        "calibration": acc.result().to_dict(),
    }
    values.update(changes)
    return EvaluationReport(**values)  # type: ignore[arg-type]


def test_targets_pass_fail_or_stay_open() -> None:
    statuses = {r.target.name: r.status for r in _report().target_results()}
    assert statuses == {
        "root F1": "PASS",
        "shoot F1": "FAIL",
        "seed F1": "n/a",
        "tips within 1 mm": "PASS",
        "root length sMAPE": "FAIL",
        "root ECE": "FAIL",  # 0.1 off in both bins
        "confident tips within 1 mm": "PASS",
    }
    assert not _report().passed
    assert check_targets({}, TARGETS)[0].status == "n/a"
    assert check_targets({"length_smape": 9.7})[4].status == "PASS"


def test_metrics_are_flat_finite_numbers() -> None:
    metrics = _report(temperature={"fitted": 1.7}).metrics()
    assert metrics["root_f1"] == 0.93
    assert "seed_f1" not in metrics
    assert metrics["tips_within_1mm"] == 0.92
    assert metrics["tip_error_mm_median"] == 0.3
    assert metrics["root_ece"] == pytest.approx(0.1)
    assert metrics["fitted_temperature"] == 1.7
    assert metrics["tips_far_5mm"] == 1
    assert metrics["tips_far_5mm_per_60"] == 5.0
    assert metrics["confident_tips_off_1mm"] == 1
    assert metrics["confident_tips_off_share"] == 0.1


def test_json_is_strict_and_reads_back(tmp_path: Path) -> None:
    report = _report()
    path = report.write_json(tmp_path / "sub" / "report.json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    data = json.loads(text)
    assert data["segmentation"]["seed_f1"] is None
    assert data["passed"] is False
    assert data["targets"][1] == {
        "name": "shoot F1",
        "metric": "shoot_f1",
        "op": ">=",
        "threshold": 0.9,
        "value": 0.8,
        "status": "FAIL",
    }
    again = EvaluationReport.read_json(path)
    assert again.metrics() == report.metrics()
    assert math.isnan(again.segmentation["seed_f1"])


def test_summary_table_lists_classes_and_targets() -> None:
    table = _report().summary_table()
    assert "root               0.870    0.930" in table
    assert "seed                 n/a" in table
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    assert lines["tips within 1 mm"].endswith("PASS")
    assert "92.0 %" in lines["tips within 1 mm"]
    assert lines["root length sMAPE"].endswith("FAIL")
    assert "confident tips (>= None)" not in table
    assert (
        "tips within 1 mm: 92.0 %; > 5 mm from every true tip: 1 (5.0 per 60 plants); "
        "confident > 1 mm off: 1 of 10 (10.0 %)"
    ) in table


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_plots_are_written(tmp_path: Path) -> None:
    report = _report()
    assert _is_png(plot_per_class(report.segmentation, CLASSES, tmp_path / "a" / "per_class.png"))
    assert _is_png(plot_reliability(report.calibration, tmp_path / "reliability.png"))
    assert _is_png(plot_tip_errors([0.2, 0.5, 1.4], tmp_path / "tips.png"))
    assert _is_png(plot_tip_errors([], tmp_path / "none.png", unit="px", tolerance_mm=20))
    empty = ReliabilityAccumulator().result().to_dict()
    assert _is_png(plot_reliability(empty, tmp_path / "empty.png"))
