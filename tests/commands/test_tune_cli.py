"""``visionkit tune`` through click's test runner, with one tiny trial."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from visionkit.cli import main
from visionkit.training import TrainConfig


@pytest.fixture(scope="module")
def plates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 1/8-scale synthetic plates."""
    from visionkit.synth import SynthConfig
    from visionkit.synth.dataset import generate_dataset

    folder = tmp_path_factory.mktemp("tune-cli-plates")
    generate_dataset(
        folder, 3, 7, config=SynthConfig(root_length_mm=(20.0, 40.0)).scaled(0.125), progress=False
    )
    return folder


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["tune", *args])
    return result.exit_code, result.output


def test_tune_writes_a_best_config_for_visionkit_train(plates: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(
        yaml.safe_dump(
            {
                "data_scale": 0.125,
                "scale": 0.125,
                "architecture": "unet",
                "arch_params": {"encoder_depth": 3, "decoder_channels": [16, 8, 4]},
                "patches_per_epoch": 4,
                "batch_size": 4,
                "epochs": 12,
                "val_fraction": 0.34,
                "device": "cpu",
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "tune"
    code, output = _run(
        str(plates), "--trials", "1", "--out", str(out), "--config", str(base),
        "--epochs", "1", "--architectures", "unet", "--encoders", "resnet18", "--no-track",
    )  # fmt: skip
    assert code == 0, output
    assert "1 trials finished, 0 pruned, 0 failed" in output
    assert f"visionkit train --config {out / 'best.yaml'}" in output
    best = TrainConfig.from_file(out / "best.yaml")
    assert best.data_dir == str(plates)
    assert best.epochs == 12
    assert best.encoder == "resnet18"
    assert best.patch_size in (128, 192, 256)
    assert best.track is False
    assert (out / "trials.csv").is_file()
    assert (out / "trials" / "trial_0000" / "best").is_dir()


def test_tune_needs_trials_or_timeout(tmp_path: Path) -> None:
    code, output = _run(str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "--trials N, --timeout SECONDS or both" in output
