"""``visionkit train``: a short run, its resume, and the errors a user can make."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner, Result
from mlflow.tracking import MlflowClient

from visionkit.cli import main
from visionkit.synth import SynthConfig, generate_dataset
from visionkit.training import TrainConfig

torch.set_num_threads(1)  # a shared CPU: see tests/training/conftest.py

TINY = {
    "architecture": "unet",
    "encoder": "resnet18",
    "arch_params": {"encoder_depth": 3, "decoder_channels": [16, 8, 8]},
    "val_fraction": 0.125,
    "data_scale": 0.125,
}


@pytest.fixture(scope="module")
def plates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight small synthetic dish crops (about 330 px)."""
    folder = tmp_path_factory.mktemp("plates")
    generate_dataset(
        folder, 8, seed=3, crop=True, config=SynthConfig().scaled(0.125), progress=False
    )
    return folder


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def _train(*args: str) -> Result:
    return CliRunner().invoke(main, ["train", *args], catch_exceptions=False)


FAST = ["--patch-size", "64", "--batch-size", "8", "--patches-per-epoch", "16", "--scale", "0.125"]


def test_train_one_epoch_then_resume_to_two(
    plates: Path, tiny_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    first = _train(str(plates), "--out", str(out), "--config", str(tiny_yaml), *FAST,
                   "--epochs", "1", "--experiment", "cli", "--no-progress")  # fmt: skip
    assert first.exit_code == 0, first.output
    assert f"best model: {out / 'best'}" in first.output
    assert "(after 1 epoch)" in first.output
    run_id = first.output.split("MLflow run: ")[1].split()[0]
    run = MlflowClient(tracking_uri=uri).get_run(run_id)
    assert re.fullmatch(r"run-\d{8}-\d{6}", run.info.run_name), run.info.run_name
    assert run.data.tags["model_name"] == "run", "the model is named after its --out folder"

    second = _train("--out", str(out), "--resume", "--epochs", "2", "--no-progress")
    assert second.exit_code == 0, second.output
    assert "after 2 epochs" in second.output
    assert f"MLflow run: {run_id}" in second.output
    assert MlflowClient(tracking_uri=uri).get_run(run_id).info.run_name == run.info.run_name
    log = (out / "train.log").read_text()
    assert "resumed at epoch 2 (step 0 of 2)" in log
    config = TrainConfig.from_file(out / "train_config.yaml")
    assert (config.epochs, config.patch_size, config.encoder) == (2, 64, "resnet18")
    history = MlflowClient(tracking_uri=uri).get_metric_history(run_id, "val_root_iou")
    assert [m.step for m in history] == [1, 2]
    assert (tmp_path / "mlartifacts" / "cli").is_dir(), "artifacts go to ./mlartifacts"

    again = _train("--out", str(out), "--resume", "--no-progress")  # nothing left to train
    assert again.exit_code == 0, again.output
    assert f"the run in {out} is finished (2 of 2 epochs); nothing to resume" in again.output
    assert "resumed at epoch 3" not in (out / "train.log").read_text()

    reused = _train(str(plates), "--out", str(out), "--config", str(tiny_yaml), *FAST)
    assert reused.exit_code == 1
    assert f"{out} holds an earlier run (train.log, train_config.yaml" in reused.output
    assert "--exist-ok" in reused.output
    assert str(out.with_name("run-2")) in reused.output


def test_exist_ok_trains_a_new_run_over_an_earlier_one(
    plates: Path, tiny_yaml: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = [str(plates), "--out", str(out), "--config", str(tiny_yaml), *FAST, "--no-track"]
    assert _train(*args, "--epochs", "1", "--no-progress").exit_code == 0
    second = _train(*args, "--epochs", "1", "--exist-ok", "--no-progress")
    assert second.exit_code == 0, second.output
    assert "(after 1 epoch)" in second.output
    resumed = _train("--out", str(out), "--resume", "--no-progress")
    assert "is finished (1 of 1 epochs)" in resumed.output


TINY_ARCH_PLUGIN = """
from visionkit import hookimpl
from visionkit.specs import ArchitectureSpec


def _build(in_channels=1, classes=5, **params):
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(in_channels, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, classes, 1),
    )


@hookimpl
def visionkit_register_architectures():
    return [ArchitectureSpec("tiny-cnn", _build, "a two-layer CNN (a test plugin)")]
"""


def test_the_global_plugin_option_reaches_train(plates: Path, tmp_path: Path) -> None:
    plugin = tmp_path / "plug" / "tiny_arch.py"
    plugin.parent.mkdir()
    plugin.write_text(TINY_ARCH_PLUGIN)
    out = tmp_path / "run"
    split = tmp_path / "split.yaml"
    split.write_text(yaml.safe_dump({"val_fraction": 0.125, "data_scale": 0.125}))
    result = CliRunner().invoke(
        main,
        ["--plugin", str(plugin), "train", str(plates), "--out", str(out), "--config", str(split),
         "--architecture", "tiny-cnn", *FAST, "--epochs", "1", "--no-track", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "best" / "config.json").is_file()
    assert '"architecture": "tiny-cnn"' in (out / "best" / "config.json").read_text()


def test_options_override_the_config_file(plates: Path, tiny_yaml: Path, tmp_path: Path) -> None:
    settings = yaml.safe_load(tiny_yaml.read_text())
    tiny_yaml.write_text(yaml.safe_dump({**settings, "epochs": 5, "lr": 0.01}))
    out = tmp_path / "run"
    result = _train(str(plates), "--out", str(out), "--config", str(tiny_yaml), *FAST,
                    "--epochs", "1", "--no-track", "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    config = TrainConfig.from_file(out / "train_config.yaml")
    assert (config.epochs, config.lr, config.track) == (1, 0.01, False)
    assert "MLflow run" not in result.output


def test_bad_data_folder_lists_the_problem(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _train(str(tmp_path / "empty"), "--out", str(tmp_path / "run"), "--no-track")
    assert result.exit_code == 1
    assert "holds no images" in result.output
    assert not (tmp_path / "run").exists(), "a failed start leaves nothing behind"


def test_missing_data_leaves_an_existing_out_folder_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = _train(str(tmp_path / "nowhere"), "--out", str(out), "--no-track")
    assert result.exit_code != 0
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_unknown_architecture_lists_the_valid_ones(plates: Path, tmp_path: Path) -> None:
    result = _train(
        str(plates), "--out", str(tmp_path / "r"), "--architecture", "nope", "--no-track"
    )
    assert result.exit_code == 1
    assert "unknown architecture 'nope'" in result.output
    assert "unet-small" in result.output
    assert not (tmp_path / "r").exists(), "a failed start leaves nothing behind"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(plates: Path, tmp_path: Path) -> None:
    result = _train(str(plates), "--out", str(tmp_path / "r"), "--device", "cuda", "--no-track")
    assert result.exit_code == 1
    assert "--device auto or --device cpu" in result.output
    assert not (tmp_path / "r").exists(), "a failed start leaves nothing behind"


def test_resume_without_checkpoint(plates: Path, tmp_path: Path) -> None:
    result = _train(str(plates), "--out", str(tmp_path / "r"), "--resume", "--no-track")
    assert result.exit_code == 1
    assert "no checkpoint to resume from" in result.output


def test_missing_data_and_out_are_usage_errors(tmp_path: Path) -> None:
    assert "give the DATA folder" in _train("--out", str(tmp_path)).output
    assert "give --out DIR" in _train(str(tmp_path)).output


def test_bad_config_file_names_the_key(plates: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("epoch: 3\n")
    result = _train(str(plates), "--out", str(tmp_path / "r"), "--config", str(path))
    assert result.exit_code == 1
    assert f"{path}: unknown key 'epoch' (did you mean 'epochs'?)" in result.output


def test_option_defaults_are_the_config_defaults() -> None:
    from visionkit.commands.train import _OPTION_KEYS, train

    defaults = TrainConfig(data_dir="x")
    for param in train.params:
        key = _OPTION_KEYS.get(param.name or "")
        if key and param.default is not None and key not in ("out_dir", "val_dir"):
            assert param.default == getattr(defaults, key), key


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from visionkit.cli import main; "
        "r = CliRunner().invoke(main, ['train', '--help']); "
        "assert 'Train a segmentation model' in r.output, r.output; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
