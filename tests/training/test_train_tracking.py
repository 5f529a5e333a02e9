"""A training run as MLflow records it, read back through MLflow's own client."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.helpers.training import ConfigFactory
from visionkit.tracking import MlflowTracker
from visionkit.training import train


def _files(client: MlflowClient, run_id: str, path: str) -> set[str]:
    return {a.path for a in client.list_artifacts(run_id, path)}


def test_run_params_metrics_tags_artifacts_and_registration(
    make_config: ConfigFactory, mlflow_uri: str, tmp_path: Path, val_plates: Path
) -> None:
    config = make_config(
        track=True, experiment="train-tests", register="root-unet", val_dir=str(val_plates)
    )
    tracker = MlflowTracker(
        config.experiment, tracking_uri=mlflow_uri, artifact_root=tmp_path / "a"
    )
    result = train(config, tracker=tracker, progress=False, command="visionkit train plates")
    assert result.run_id is not None
    assert result.registered_version == "1"

    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == config.flat()
    tags = run.data.tags
    assert tags["data_version"] == result.data_version
    assert len(tags["val_data_version"]) == 64
    assert tags["code_version"].startswith(("git:", "visionkit=="))
    assert tags["command"] == "visionkit train plates"
    assert {"env.python", "env.torch", "env.smp", "env.platform"} <= set(tags)
    assert tags["env.device"] == "cpu"
    for key in ("train_loss", "val_loss", "val_root_iou", "val_root_f1", "lr", "patches_per_s"):
        assert [m.step for m in client.get_metric_history(result.run_id, key)] == [1, 2], key
    top = _files(client, result.run_id, "")
    assert {"model", "last_model", "curves.png", "train_config.yaml", "train.log"} <= top
    assert _files(client, result.run_id, "model") == {
        "model/model.safetensors",
        "model/config.json",
        "model/MODEL_CARD.md",
    }
    assert _files(client, result.run_id, "overlays")
    version = client.get_model_version("root-unet", "1")
    assert version.run_id == result.run_id
    assert version.source.endswith("/model")


def test_interrupted_run_resumes_the_same_mlflow_run(
    make_config: ConfigFactory, mlflow_uri: str, tmp_path: Path
) -> None:
    import signal

    from visionkit.training import StepInfo

    def stop_in_second_epoch(info: StepInfo) -> None:
        if (info.epoch, info.step) == (1, 1):
            signal.raise_signal(signal.SIGINT)

    config = make_config(track=True, experiment="train-tests")

    def tracker() -> MlflowTracker:
        return MlflowTracker("train-tests", tracking_uri=mlflow_uri, artifact_root=tmp_path / "a")

    first = train(config, tracker=tracker(), progress=False, on_step=stop_in_second_epoch)
    client = MlflowClient(tracking_uri=mlflow_uri)
    assert client.get_run(first.run_id).info.status == "KILLED"
    second = train(config, resume=True, tracker=tracker(), progress=False)
    assert second.run_id == first.run_id
    run = client.get_run(first.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["resumed_at_epoch"] == "2"
    assert [m.step for m in client.get_metric_history(first.run_id, "val_loss")] == [1, 2]


def test_a_crash_marks_the_run_failed(make_config: ConfigFactory, mlflow_uri: str) -> None:
    def crash(info: object) -> None:
        raise RuntimeError("disk full")

    tracker = MlflowTracker("train-tests", tracking_uri=mlflow_uri)
    with pytest.raises(RuntimeError, match="disk full"):
        train(make_config(track=True), tracker=tracker, progress=False, on_step=crash)
    assert tracker.run_id is not None
    run = MlflowClient(tracking_uri=mlflow_uri).get_run(tracker.run_id)
    assert run.info.status == "FAILED"
