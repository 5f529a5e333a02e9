"""``visionkit evaluate`` through click's test runner."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers.band_plugin import band_net
from tests.helpers.models import BAND_PLUGIN, band_model, save_tiny_unet
from tests.helpers.plates import draw_labelled_plate, write_plate
from visionkit.cli import main
from visionkit.modelfolder import save_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A random tiny U-Net folder and two drawn labelled plates."""
    root = tmp_path_factory.mktemp("eval-cli")
    model = save_tiny_unet(root / "model")
    write_plate(root / "data", "plate_a", draw_labelled_plate())
    write_plate(root / "data", "plate_b", draw_labelled_plate(plants=2))
    return model, root / "data"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["evaluate", *args])
    return result.exit_code, result.output


def test_evaluate_prints_the_summary_and_writes_the_report(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = setup
    out = tmp_path / "out"
    code, output = _run(
        "--model", str(model), "--data", str(data), "--out", str(out),
        "--backend", "torch", "--no-track", "--no-progress", "--fit-temperature",
        "--fit-masks",
    )  # fmt: skip
    assert code == 0, output
    assert "root F1" in output
    assert ">= 0.9" in output
    assert "FAIL" in output  # a random model misses every target it can be scored on
    assert "fitted temperature" in output
    assert f"report: {out / 'report.json'}" in output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["data"]["images"] == 2
    assert (out / "calibrated_model" / "config.json").is_file()
    calibrated = json.loads((out / "calibrated_model" / "config.json").read_text("utf-8"))
    assert set(calibrated["mask_thresholds"]) == {"root", "shoot", "seed"}
    assert calibrated["temperature"] == report["temperature"]["fitted"]
    assert "mask thresholds (F1 at the model's threshold -> fitted):" in output
    assert report["mask_thresholds"]["fitted"] == calibrated["mask_thresholds"]
    offset = report["mask_thresholds"]["map_offset"]
    assert offset["model"] == [0.0, 0.0]
    assert len(offset["per_plate"]) == 2
    assert calibrated["map_offset"] == offset["fitted"]
    assert "map offset [0.0, 0.0]" in output
    card = (out / "calibrated_model" / "MODEL_CARD.md").read_text("utf-8")
    assert "--fit-masks" in card
    for name in ("per_class.png", "reliability.png", "tip_errors.png", "summary.txt"):
        assert (out / name).is_file()


def test_json_output_and_limit(setup: tuple[Path, Path], tmp_path: Path) -> None:
    model, data = setup
    code, output = _run(
        "--model", str(model), "--data", str(data), "--out", str(tmp_path),
        "--backend", "torch", "--no-track", "--json", "--limit", "1", "--scale", "1.0",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output)
    assert [r["image"] for r in report["per_image"]] == ["plate_a.png"]
    assert report["settings"]["scale"] == 1.0
    assert report["settings"]["refine"] == 3
    assert report["settings"]["plant_roots_only"] is True
    assert {t["status"] for t in report["targets"]} <= {"PASS", "FAIL", "n/a"}


def test_check_turns_a_failed_target_into_exit_status_1(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = setup
    result = CliRunner().invoke(
        main,
        [
            "evaluate", "--model", str(model), "--data", str(data), "--out", str(tmp_path),
            "--backend", "torch", "--no-track", "--no-progress", "--limit", "1",
            "--refine-radius", "0", "--all-roots", "--check",
        ],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "check failed: " in result.output
    assert "root F1" in result.output.split("check failed: ")[1]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["settings"]["refine"] == 0
    assert report["settings"]["plant_roots_only"] is False


def test_missing_model_and_bad_data_fail_with_a_message(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = setup
    code, output = _run("--model", str(model), "--data", str(tmp_path / "none"), "--no-track")
    assert code == 1
    assert "Error:" in output
    assert "none" in output
    code, output = _run("--model", str(tmp_path / "nomodel"), "--data", str(tmp_path), "--no-track")
    assert code == 1
    assert "no such model folder" in output
    from visionkit.pipeline import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        code, output = _run("--data", str(tmp_path), "--no-track")
        assert code == 1
        assert "no default model is installed" in output


def test_data_is_required() -> None:
    code, output = _run()
    assert code == 2
    assert "--data" in output


def test_the_plugin_option_reaches_evaluate(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """A model of a plugin's architecture is evaluated when the plugin is named with --plugin."""
    _, data = setup
    band = save_model(band_net(), tmp_path / "band", band_model().config)
    args = ["--model", str(band), "--data", str(data), "--out", str(tmp_path / "out")]
    args += ["--backend", "torch", "--no-track", "--no-progress", "--json"]
    result = CliRunner().invoke(main, ["--plugin", str(BAND_PLUGIN), "evaluate", *args])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["data"]["images"] == 2
    # the band model sees the drawn grey levels: its roots are found
    assert report["metrics"]["root_f1"] > 0.5


def test_skip_empty_is_scored_as_predict_would_run_it(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    """``--skip-empty`` reaches the evaluation and its report, so a lab can score it first."""
    _, data = setup
    band = save_model(band_net(), tmp_path / "band", band_model().config)
    reports = {}
    for flag in ("--skip-empty", "--no-skip-empty"):
        args = ["--model", str(band), "--data", str(data), "--out", str(tmp_path / flag)]
        args += ["--backend", "torch", "--no-track", "--no-progress", "--json", flag]
        result = CliRunner().invoke(main, ["--plugin", str(BAND_PLUGIN), "evaluate", *args])
        assert result.exit_code == 0, result.output
        reports[flag] = json.loads(result.output)
    assert reports["--skip-empty"]["settings"]["skip_empty"] is True
    assert reports["--no-skip-empty"]["settings"]["skip_empty"] is False
    dense, band_only = reports["--no-skip-empty"]["metrics"], reports["--skip-empty"]["metrics"]
    assert band_only["root_f1"] > 0.5
    assert band_only["root_f1"] == pytest.approx(dense["root_f1"], abs=0.02)


def test_warnings_name_the_plate_they_are_about(
    setup: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model, data = setup
    with caplog.at_level(logging.WARNING, logger="visionkit"):
        code, output = _run(
            "--model", str(model), "--data", str(data), "--out", str(tmp_path),
            "--backend", "torch", "--no-track", "--no-progress",
        )  # fmt: skip
    assert code == 0, output
    warnings = [r.getMessage() for r in caplog.records if r.name == "visionkit.pipeline"]
    assert warnings  # a random model finds too few plants on every plate
    assert all(w.startswith(("plate_a.png: ", "plate_b.png: ")) for w in warnings), warnings
    assert any(w.startswith("plate_b.png: ") for w in warnings)


def test_fit_tips_says_why_it_fitted_nothing_on_two_plates(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = setup
    code, output = _run(
        "--model", str(model), "--data", str(data), "--out", str(tmp_path),
        "--backend", "torch", "--no-track", "--no-progress", "--fit-tips",
    )  # fmt: skip
    assert code == 0, output
    assert "tip confidences not fitted: fitting tip confidences needs at least 20 tips" in output
    assert not (tmp_path / "calibrated_model").exists()


def test_a_tip_fit_is_printed_strength_by_strength(capsys: pytest.CaptureFixture[str]) -> None:
    from visionkit.commands.evaluate import _echo_tip_fit
    from visionkit.landmarks.tip_calibration import TipSample, fit_tip_calibration

    samples = [
        TipSample({"tip_size": 0.3 + 0.7 * (i % 2)}, i % 2 == 1 or i % 10 == 0) for i in range(40)
    ]
    fitted = fit_tip_calibration(samples)
    _echo_tip_fit({"tips": 40, "fitted": fitted.to_dict(), "model_copy": "out/calibrated_model"})
    output = capsys.readouterr().out
    assert "tip doubts fitted on 40 tips (16 beyond 1 mm)" in output
    assert f"tip_size        strength {fitted.weights['tip_size']:.3f}" in output
    assert "calibrated  confident tips" in output
    assert "calibrated model: out/calibrated_model" in output


def test_tip_risk_without_fit_tips_is_a_usage_error(setup: tuple[Path, Path]) -> None:
    model, data = setup
    code, output = _run("--model", str(model), "--data", str(data), "--tip-risk", "0.01")
    assert code == 2
    assert "--tip-risk needs --fit-tips" in output
