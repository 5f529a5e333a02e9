"""MlflowTracker: what it logs is read back through MLflow's own client."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from visionkit.tracking import DEFAULT_TRACKING_URI, MODEL_FORMAT_TAG, MlflowTracker, Tracker

DOWN = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local SQLite store shared by this module's tests (creating one takes seconds)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlruns.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()
    return uri


@pytest.fixture
def tracker(store: str, tmp_path: Path) -> MlflowTracker:
    return MlflowTracker("tests", tracking_uri=store, artifact_root=tmp_path / "art")


def test_params_metrics_tags_and_files_are_recorded(
    tracker: MlflowTracker, tmp_path: Path, store: str
) -> None:
    run_id = tracker.start(run_name="r1", tags={"data_version": "abc"})
    assert run_id
    assert tracker.active
    tracker.log_params({"lr": 0.001, "classes": "background,root"})
    tracker.log_metrics({"val_loss": 0.9, "val_root_iou": 0.1}, step=1)
    tracker.log_metrics({"val_loss": 0.5, "val_root_iou": math.nan}, step=2)
    tracker.set_tags({"code_version": "git:123"})
    note = tmp_path / "notes.txt"
    note.write_text("hello")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    tracker.log_artifact(note)
    tracker.log_artifacts(folder, "model")
    tracker.end()

    client = MlflowClient(tracking_uri=store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.001", "classes": "background,root"}
    assert run.data.tags["data_version"] == "abc"
    assert run.data.tags["code_version"] == "git:123"
    history = client.get_metric_history(run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.9), (2, 0.5)]
    assert [m.step for m in client.get_metric_history(run_id, "val_root_iou")] == [1]  # nan skipped
    assert {a.path for a in client.list_artifacts(run_id)} == {"notes.txt", "model"}
    assert [a.path for a in client.list_artifacts(run_id, "model")] == ["model/config.json"]
    assert run.info.artifact_uri.startswith((tmp_path / "art" / "tests").as_uri())


def test_resuming_continues_the_same_run(tracker: MlflowTracker, store: str) -> None:
    run_id = tracker.start(run_name="r2")
    tracker.end("KILLED")
    again = MlflowTracker("tests", tracking_uri=store)
    assert again.start(run_name="r2", run_id=run_id) == run_id
    assert MlflowClient(tracking_uri=store).get_run(run_id).info.status == "RUNNING"
    other = MlflowTracker("tests", tracking_uri=store)
    assert other.start(run_name="r3", run_id="0" * 32) not in (None, run_id)


def test_down_server_falls_back_to_the_local_store_saying_so_once(
    store: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", DOWN)
    tracker = MlflowTracker("tests", fallback_uri=store, probe_timeout=2)
    with caplog.at_level(logging.WARNING, logger="visionkit.tracking"):
        run_id = tracker.start(run_name="offline")
        tracker.log_metrics({"val_loss": 1.0}, step=1)
        tracker.end()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert DOWN in warnings[0]
    assert "unreachable" in warnings[0]
    assert store in warnings[0]
    assert tracker.notice == warnings[0]
    assert MlflowClient(tracking_uri=store).get_run(run_id).data.metrics == {"val_loss": 1.0}


def test_default_store_is_local_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracker = MlflowTracker()
    assert tracker.tracking_uri == DEFAULT_TRACKING_URI == "sqlite:///mlruns.db"
    assert tracker.artifact_root == Path("mlartifacts")


def test_a_failing_backend_is_reported_once_then_ignored(
    tracker: MlflowTracker, caplog: pytest.LogCaptureFixture
) -> None:
    tracker.start(run_name="r4")
    tracker.log_params({"lr": 1})
    with caplog.at_level(logging.WARNING, logger="visionkit.tracking"):
        tracker.log_params({"lr": 2})  # MLflow refuses to change a logged parameter
        tracker.log_metrics({"val_loss": 1.0}, step=1)
        tracker.end()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "training continues without tracking" in warnings[0].getMessage()
    assert not tracker.active


def test_a_broken_store_does_not_stop_the_caller(tmp_path: Path) -> None:
    tracker = MlflowTracker("tests", tracking_uri="nonsense-scheme://nowhere")
    assert tracker.start(run_name="x") is None
    assert not tracker.active
    assert tracker.notice is not None
    assert "starting the run" in tracker.notice
    tracker.log_metrics({"a": 1.0}, step=1)  # a no-op, not an error
    assert tracker.register_model("m", "model") is None


def test_registering_versions_points_at_the_model_folder(
    tracker: MlflowTracker, tmp_path: Path, store: str
) -> None:
    folder = tmp_path / "best"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"x")
    tracker.start(run_name="r5")
    tracker.log_artifacts(folder, "model")
    assert tracker.register_model("root-unet-test", "model") == "1"
    assert tracker.register_model("root-unet-test", "model") == "2"
    version = MlflowClient(tracking_uri=store, registry_uri=store).get_model_version(
        "root-unet-test", "2"
    )
    assert version.source.endswith("/model")
    assert version.run_id == tracker.run_id
    assert version.tags[MODEL_FORMAT_TAG[0]] == MODEL_FORMAT_TAG[1]


def test_the_null_tracker_records_nothing(tmp_path: Path) -> None:
    tracker = Tracker()
    assert tracker.start(run_name="x") is None
    assert not tracker.active
    tracker.log_params({"a": 1})
    tracker.log_metrics({"a": 1.0}, step=1)
    tracker.set_tags({"a": "b"})
    tracker.log_artifact(tmp_path)
    tracker.log_artifacts(tmp_path)
    assert tracker.register_model("m", "model") is None
    tracker.end()
