"""A training run's compute, duration and cost as MLflow records them, read back through MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.helpers.training import ConfigFactory
from visionkit.costs import estimate_run
from visionkit.tracking import MlflowTracker
from visionkit.training import train


@pytest.mark.parametrize(
    ("compute", "nodes"), [(None, 1), ("Standard_NC4as_T4_v3", 2)], ids=["local", "azure-vm"]
)
def test_a_run_logs_its_compute_duration_and_estimated_cost(
    make_config: ConfigFactory, mlflow_uri: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, compute: str | None, nodes: int,
) -> None:  # fmt: skip
    # $3600 an hour is a dollar a second: the cost must follow the measured duration.
    monkeypatch.setenv("VISIONKIT_PRICE_TABLE", f'{{"{compute or "local-cpu"}": 3600}}')
    if compute is None:
        monkeypatch.delenv("VISIONKIT_COMPUTE", raising=False)
        monkeypatch.delenv("VISIONKIT_NODES", raising=False)
    else:  # what an Azure ML job spec sets inside the job
        monkeypatch.setenv("VISIONKIT_COMPUTE", compute)
        monkeypatch.setenv("VISIONKIT_NODES", str(nodes))
    config = make_config(track=True, experiment="cost-tests")
    tracker = MlflowTracker(config.experiment, tracking_uri=mlflow_uri, artifact_root=tmp_path)
    result = train(config, tracker=tracker, progress=False)
    assert result.run_id is not None

    run = MlflowClient(tracking_uri=mlflow_uri).get_run(result.run_id)
    expected = compute or "local-cpu"
    assert run.data.tags["cost.compute"] == run.data.tags["env.compute"] == expected
    assert run.data.tags["cost.nodes"] == str(nodes)
    metrics = run.data.metrics
    assert metrics["duration_s"] > 0
    assert metrics["usd_per_hour"] == 3600
    # duration_s is rounded to a tenth of a second, the cost is not
    dollars = metrics["duration_s"] * nodes
    assert metrics["estimated_usd"] == pytest.approx(dollars, abs=0.06 * nodes)
    planned = estimate_run(expected, epochs=config.epochs, nodes=nodes,
                           patches_per_epoch=config.patches_per_epoch)  # fmt: skip
    assert planned.usd_per_hour == 3600
    assert metrics["planned_usd"] == pytest.approx(planned.usd)
    assert "duration_s" not in run.data.params, "a resumed run may change machine: not a param"
