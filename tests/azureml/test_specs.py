"""The Azure ML specs the dry runs write load with azure-ai-ml's own loaders."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from visionkit.azureml import AzureMLError
from visionkit.azureml.files import load_spec, write_specs
from visionkit.cli import main
from visionkit.training.tuning import SearchSpace

pytest.importorskip("azure.ai.ml")


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_train_dry_run_writes_command_and_sweep_jobs_the_sdk_loads(tmp_path: Path) -> None:
    from azure.ai.ml import load_environment, load_job

    out = tmp_path / "specs"
    said = _run(
        "train",
        "--backend",
        "azureml",
        "--dry-run",
        "--out",
        str(out),
        "--epochs",
        "7",
        "--no-deterministic",
        "--vm-size",
        "Standard_NC24ads_A100_v4",
    )
    command: Any = load_job(out / "train-job.yml")
    sweep: Any = load_job(out / "sweep-job.yml")
    assert type(command).__name__ == "Command"
    assert type(sweep).__name__ == "SweepJob"
    assert "--epochs 7 --no-deterministic" in command.command
    assert command.environment_variables["VISIONKIT_COMPUTE"] == "Standard_NC24ads_A100_v4"
    code = (out / command.code).resolve()  # relative to the spec's folder, as the SDK reads it
    assert code == Path(__file__).resolve().parents[2]
    assert (code / "Dockerfile").is_file()
    for name in ("environment.yml", "environment-conda.yml"):
        assert str(load_environment(out / name).name).startswith("visionkit")
    assert "Standard_NC24ads_A100_v4 x1" in said
    assert "dry run: nothing submitted" in said


def test_the_sweep_mirrors_visionkit_tunes_search_space(tmp_path: Path) -> None:
    from azure.ai.ml import load_job

    _run("train", "--backend", "azureml", "--dry-run", "--out", str(tmp_path))
    sweep: Any = load_job(tmp_path / "sweep-job.yml")
    space = SearchSpace()
    drawn = sweep.search_space
    assert math.exp(drawn["lr"].min_value) == pytest.approx(space.lr[0])
    assert math.exp(drawn["lr"].max_value) == pytest.approx(space.lr[1])
    assert math.exp(drawn["root_weight"].max_value) == pytest.approx(space.root_weight[1])
    assert (drawn["dice_weight"].min_value, drawn["dice_weight"].max_value) == space.dice_weight
    assert list(drawn["patch_size"].values) == list(space.patch_sizes)
    assert list(drawn["encoder"].values) == list(space.encoders)
    assert "unet-small" in drawn["architecture"].values
    assert sweep.early_termination.type == "median_stopping"
    assert sweep.objective.primary_metric == "val_root_iou"
    for name in drawn:
        assert f"--trial-param {name}=${{{{search_space.{name}}}}}" in sweep.trial.command


def test_batch_dry_run_writes_a_parallel_job_the_sdk_loads(tmp_path: Path) -> None:
    from azure.ai.ml import load_job

    source = "azureml://datastores/workspaceblobstore/paths/plates/2024-05/"
    _run(
        "azureml",
        "batch",
        "--dry-run",
        "--out",
        str(tmp_path),
        source,
        "--mini-batch-size",
        "4",
        "--model",
        "azureml:root-unet:3",
    )
    job: Any = load_job(tmp_path / "batch-job.yml")
    assert type(job).__name__ == "PipelineJob"
    step: Any = job.jobs["predict"]
    assert type(step).__name__ == "Parallel"
    assert step.mini_batch_size == 4
    assert step.task.entry_script == "visionkit/azureml/batch_entry.py"
    assert (tmp_path / step.task.code / step.task.entry_script).is_file()
    assert job.inputs["plates"].path == source
    assert job._validate().passed


def test_a_broken_spec_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    _run("train", "--backend", "azureml", "--dry-run", "--out", str(tmp_path / "good"))
    spec = yaml.safe_load((tmp_path / "good" / "sweep-job.yml").read_text())
    spec["search_space"]["lr"]["type"] = "lognormalish"
    out = tmp_path / "bad"
    with pytest.raises(AzureMLError, match="sweep-job.yml"):
        write_specs(out, {"sweep-job.yml": spec})
    assert not out.exists()
    command = yaml.safe_load((tmp_path / "good" / "train-job.yml").read_text())
    command["resources"]["instance_count"] = "many"
    (tmp_path / "good" / "broken.yml").write_text(yaml.safe_dump(command))
    with pytest.raises(AzureMLError, match="broken.yml"):
        load_spec(tmp_path / "good" / "broken.yml")


def test_local_only_options_are_refused_for_azureml(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--backend",
            "azureml",
            "--dry-run",
            "--out",
            str(tmp_path / "o"),
            "--val",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "local runs" in result.output
    assert not (tmp_path / "o").exists()
