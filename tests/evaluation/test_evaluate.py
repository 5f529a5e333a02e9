"""``evaluate`` on whole plates: known answers with a perfect model, structure with a random one."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.plates import draw_labelled_plate, write_plate
from visionkit.evaluation import EvaluationReport, evaluate
from visionkit.evaluation.evaluate import CALIBRATED_MODEL_DIR
from visionkit.exceptions import DatasetError, ModelError
from visionkit.modelfolder import SavedModel, load_model
from visionkit.settings import PredictSettings, SegmentSettings
from visionkit.tracking import MlflowTracker, Tracker

#: Eager PyTorch: no ONNX export for models that exist only in memory.
TORCH = PredictSettings(segment=SegmentSettings(backend="torch"))


def _png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_perfect_model_scores_f1_one_and_no_calibration_error(
    oracle_model: SavedModel, drawn_folder: Path, tmp_path: Path
) -> None:
    report = evaluate(
        oracle_model,
        drawn_folder,
        out_dir=tmp_path,
        tracker=Tracker(),
        settings=TORCH,
        progress=False,
    )
    for cls in ("root", "shoot", "seed"):
        assert report.segmentation[f"{cls}_f1"] == pytest.approx(1.0)
        assert report.segmentation[f"{cls}_iou"] == pytest.approx(1.0)
    assert report.calibration["ece"] == pytest.approx(0.0, abs=1e-4)
    assert report.per_image[0]["scores"]["root_f1"] == pytest.approx(1.0)
    marks = report.landmarks
    assert marks is not None
    assert (marks["n_truth"], marks["n_matched"], marks["n_spurious"]) == (7, 7, 0)
    assert marks["tips_within_tolerance"] == 1.0
    assert marks["tip_error_px"]["max"] <= 2.0
    assert marks["length_smape"] < 3.0
    assert marks["confident_within_tolerance"] == 1.0
    assert marks["n_confident_tips"] == 7
    assert report.passed
    assert all(t.status == "PASS" for t in report.target_results())
    # the confusion matrix holds every pixel of both plates
    assert sum(map(sum, report.confusion_matrix)) == 2 * 480 * 400


def test_tips_shifted_in_the_truth_are_that_far_off(
    oracle_model: SavedModel, tmp_path: Path
) -> None:
    plate = draw_labelled_plate()
    shifted = json.loads(json.dumps(plate.plants))
    for record in shifted:
        record["tip"]["y"] += 30.0  # the truth says the tips are 30 px lower (3 mm)
    write_plate(tmp_path / "data", "plate", plate, landmarks=shifted)
    report = evaluate(
        oracle_model,
        tmp_path / "data",
        out_dir=tmp_path / "out",
        tracker=Tracker(),
        settings=TORCH,
        progress=False,
    )
    errors = [p["tip_error_px"] for p in report.plants]
    assert errors == pytest.approx([30.0] * 3, abs=2.0)
    assert [p["tip_error_mm"] for p in report.plants] == pytest.approx([3.0] * 3, abs=0.2)
    assert report.landmarks is not None
    assert report.landmarks["tips_within_tolerance"] == 0.0
    assert report.landmarks["n_far_tips"] == 0  # 3 mm off is inaccurate, not a miss
    assert report.metrics()["confident_tips_off_1mm"] == report.landmarks["n_confident_tips"]
    assert [r["tips_far"] for r in report.per_image] == [0]
    statuses = {r.target.name: r.status for r in report.target_results()}
    assert statuses["tips within 1 mm"] == "FAIL"
    assert statuses["root F1"] == "PASS"
    assert not report.passed
    assert "FAIL" in (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")


def test_random_model_on_synthetic_plates_writes_a_complete_report(
    tiny_model_folder: Path, synth_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "eval"
    report = evaluate(
        tiny_model_folder,
        synth_folder,
        out_dir=out,
        tracker=Tracker(),
        settings=TORCH,
        fit_temperature=True,
        progress=False,
    )
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["model"]["name"] == "tiny-unet"
    assert len(data["model"]["sha256"]) == 64
    assert data["data"]["images"] == 2
    assert len(data["data"]["version"]) == 64
    assert [r["name"] for r in data["targets"]][:3] == ["root F1", "shoot F1", "seed F1"]
    assert {r["status"] for r in data["targets"]} <= {"PASS", "FAIL", "n/a"}
    assert len(data["per_image"]) == 2
    assert data["landmarks"]["n_truth"] > 0
    assert len(data["calibration"]["counts"]) == 15
    assert 0.0 <= data["calibration"]["ece"] <= 1.0
    for name in ("per_class.png", "reliability.png", "tip_errors.png"):
        assert _png(out / name), name
    # the fitted temperature went into a copy of the model, not the original
    temperature = data["temperature"]
    assert 0.05 <= temperature["fitted"] <= 20.0
    copy = load_model(out / CALIBRATED_MODEL_DIR)
    assert copy.config.temperature == pytest.approx(temperature["fitted"])
    assert load_model(tiny_model_folder).config.temperature == 1.0
    assert copy.sha256 == data["model"]["sha256"]
    again = EvaluationReport.read_json(out / "report.json")
    assert again.metrics() == pytest.approx(report.metrics(), nan_ok=True)


def test_limit_evaluates_the_first_plates_only(
    oracle_model: SavedModel, drawn_folder: Path, tmp_path: Path
) -> None:
    report = evaluate(
        oracle_model,
        drawn_folder,
        out_dir=tmp_path,
        tracker=Tracker(),
        settings=TORCH,
        limit=1,
        plots=False,
        fit_temperature=True,
        progress=False,
    )
    assert [r["image"] for r in report.per_image] == ["plate_a.png"]
    assert report.data["images"] == 1
    assert report.data["images_in_folder"] == 2
    assert not (tmp_path / "per_class.png").exists()
    # a model without a folder gets its temperature reported, not written
    assert report.temperature is not None
    assert report.temperature["model_copy"] is None
    with pytest.raises(ValueError, match="limit"):
        evaluate(oracle_model, drawn_folder, out_dir=tmp_path, tracker=Tracker(), limit=0)


def test_plates_without_landmarks_leave_the_landmark_targets_open(
    oracle_model: SavedModel, drawn_folder: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(drawn_folder, data)
    for file in data.glob("*.landmarks.json"):
        file.unlink()
    report = evaluate(
        oracle_model,
        data,
        out_dir=tmp_path / "out",
        tracker=Tracker(),
        settings=TORCH,
        progress=False,
    )
    assert report.landmarks is None
    statuses = {r.target.name: r.status for r in report.target_results()}
    assert statuses["tips within 1 mm"] == "n/a"
    assert statuses["root F1"] == "PASS"
    assert "not measured" in report.summary_table()


def test_bad_data_and_missing_default_model_fail_clearly(
    oracle_model: SavedModel, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError):
        evaluate(oracle_model, tmp_path / "nowhere", out_dir=tmp_path, tracker=Tracker())
    from visionkit.pipeline import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        with pytest.raises(ModelError, match="no default model"):
            evaluate(None, tmp_path, out_dir=tmp_path, tracker=Tracker())


def test_the_run_is_logged_to_mlflow_with_model_and_data_versions(
    oracle_model: SavedModel, drawn_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    report = evaluate(
        oracle_model,
        drawn_folder,
        out_dir=tmp_path / "out",
        tracker=MlflowTracker("evaluation", tracking_uri=uri),
        settings=TORCH,
        progress=False,
    )
    assert report.mlflow_run_id is not None
    run = MlflowClient(tracking_uri=uri).get_run(report.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["model_sha256"] == oracle_model.sha256
    assert run.data.tags["data_version"] == report.data["version"]
    assert run.data.metrics["root_f1"] == pytest.approx(1.0)
    assert run.data.metrics["tips_within_1mm"] == 1.0
    artifacts = {a.path for a in MlflowClient(tracking_uri=uri).list_artifacts(run.info.run_id)}
    assert {"report.json", "per_class.png", "reliability.png", "tip_errors.png"} <= artifacts
    experiment = MlflowClient(tracking_uri=uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "evaluation"


def test_a_corrupt_plate_is_refused_before_anything_runs(
    oracle_model: SavedModel, drawn_folder: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(drawn_folder, data)
    (data / "plate_b.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="plate_b"):
        evaluate(oracle_model, data, out_dir=tmp_path / "out", tracker=Tracker(), progress=False)


def test_a_model_that_fails_mid_run_marks_the_run_failed(
    drawn_folder: Path, tmp_path: Path
) -> None:
    import torch

    from visionkit.modelfolder import ModelConfig

    class Recorder(Tracker):
        status = ""

        def end(self, status: str = "FINISHED") -> None:
            self.status = status

    class ThreeChannels(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.repeat(1, 3, 1, 1)  # the config promises 5 classes

    broken = SavedModel(
        ThreeChannels().eval(), ModelConfig("unet", scale=1.0), Path("<broken>"), "1" * 64
    )
    recorder = Recorder()
    with pytest.raises(ModelError, match="do not belong together"):
        evaluate(broken, drawn_folder, out_dir=tmp_path, tracker=recorder, settings=TORCH)
    assert recorder.status == "FAILED"


def test_a_misregistered_model_gets_its_map_offset_and_thresholds_in_two_passes(
    oracle_model: SavedModel, tmp_path: Path
) -> None:
    """The oracle told its maps lie a pixel right: the fit undoes it, then refits under it."""
    from dataclasses import replace

    folder = tmp_path / "data"
    for k in range(3):
        write_plate(folder, f"plate_{k}", draw_labelled_plate(plants=3 + k % 2))
    shifted = replace(oracle_model, config=replace(oracle_model.config, map_offset=(1.0, 0.0)))
    report = evaluate(
        shifted,
        folder,
        out_dir=tmp_path / "out",
        tracker=Tracker(),
        settings=TORCH,
        progress=False,
        fit_masks=True,
    )
    assert report.segmentation["root_f1"] < 0.9  # masks a pixel off
    fit = report.mask_thresholds
    assert fit is not None
    assert fit["passes"] == 2
    offset = fit["map_offset"]
    assert offset["model"] == [1.0, 0.0]
    assert offset["fitted"] == pytest.approx([0.0, 0.0], abs=0.051)
    assert offset["residual_after"] == pytest.approx([0.0, 0.0], abs=0.05)
    assert fit["f1_fitted"]["root"] > 0.99  # counted under the fitted offset


def test_on_plate_reports_each_plate_and_its_exception_stops_the_run(
    oracle_model: SavedModel, drawn_folder: Path, tmp_path: Path
) -> None:
    calls: list[tuple[int, int]] = []
    evaluate(oracle_model, drawn_folder, out_dir=tmp_path / "a", tracker=Tracker(),
             settings=TORCH, plots=False, progress=False,
             on_plate=lambda *a: calls.append(a))  # fmt: skip
    assert calls == [(1, 2), (2, 2)]

    class StopError(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise StopError

    with pytest.raises(StopError):
        evaluate(oracle_model, drawn_folder, out_dir=tmp_path / "b", tracker=Tracker(),
                 settings=TORCH, plots=False, progress=False, on_plate=stop)  # fmt: skip
    assert not (tmp_path / "b" / "report.json").exists()


def test_fit_tips_learns_that_confident_tips_are_often_off_and_the_model_believes_it(
    oracle_model: SavedModel, tmp_path: Path
) -> None:
    # Eight plates of three plants; on every plate the truth moves two tips by
    # 3 mm: the oracle's tips are all "sure" by their factors, yet 16 of 24 are off.
    for index in range(8):
        plate = draw_labelled_plate()
        truth = json.loads(json.dumps(plate.plants))
        for record in truth[:2]:
            record["tip"]["y"] += 30.0
        write_plate(tmp_path / "data", f"plate_{index}", plate, landmarks=truth)
    common = {"tracker": Tracker(), "settings": TORCH, "progress": False, "plots": False}
    before = evaluate(
        oracle_model, tmp_path / "data", out_dir=tmp_path / "a", fit_tips=True, **common
    )
    assert before.landmarks is not None
    assert before.landmarks["n_confident_tips"] == 24  # the raw product trusts every tip
    fit = before.tip_calibration
    assert fit is not None
    assert fit["tips"] == 24
    calibration = fit["fitted"]
    assert calibration["fitted_on"]["tips_off"] == 16
    assert calibration["fitted_on"]["calibrated"]["confident_tips"] == 0
    assert "tip_prob" in calibration["weights"]
    assert EvaluationReport.read_json(tmp_path / "a" / "report.json").tip_calibration == fit

    config = replace(oracle_model.config, tip_calibration=calibration)
    calibrated = SavedModel(oracle_model.module, config, oracle_model.path, oracle_model.sha256)
    after = evaluate(calibrated, tmp_path / "data", out_dir=tmp_path / "b", **common)
    assert after.landmarks is not None
    assert after.landmarks["n_confident_tips"] == 0
    # about one tip in three is right, and the calibrated confidences say so
    confidences = [p["tip_confidence"] for p in after.plants]
    assert np.mean(confidences) == pytest.approx(8 / 24, abs=0.1)


def test_fit_tips_on_too_few_tips_says_why_and_writes_no_model(
    tiny_model_folder: Path, drawn_folder: Path, tmp_path: Path
) -> None:
    model = load_model(tiny_model_folder)
    report = evaluate(model, drawn_folder, out_dir=tmp_path, tracker=Tracker(), settings=TORCH,
                      progress=False, plots=False, fit_tips=True)  # fmt: skip
    fit = report.tip_calibration
    assert fit is not None
    assert "fitted" not in fit
    assert "at least 20 tips" in fit["error"]
    assert not (tmp_path / CALIBRATED_MODEL_DIR).exists()
