"""``tune`` on tiny synthetic plates: nested MLflow runs, pruning, a usable best.yaml."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from visionkit.exceptions import ModelError
from visionkit.training import TrainConfig
from visionkit.training.tuning import SearchSpace, apply_params, tune

TINY_SPACE = SearchSpace(
    architectures=("unet",),
    encoders=("resnet18",),
    lr=(1e-3, 5e-3),
    patch_sizes=(64,),
    dice_weight=(0.5, 1.5),
    root_weight=(1.0, 4.0),
)


@pytest.fixture(scope="module")
def plates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 1/8-scale synthetic plates."""
    from visionkit.synth import SynthConfig
    from visionkit.synth.dataset import generate_dataset

    folder = tmp_path_factory.mktemp("tune-plates")
    generate_dataset(
        folder, 3, 5, config=SynthConfig(root_length_mm=(20.0, 40.0)).scaled(0.125), progress=False
    )
    return folder


def _base(plates: Path, tmp_path: Path, **changes: Any) -> TrainConfig:
    values: dict[str, Any] = {
        "data_dir": str(plates),
        "data_scale": 0.125,
        "scale": 0.125,
        "architecture": "unet",
        "encoder": "resnet18",
        "arch_params": {"encoder_depth": 3, "decoder_channels": [16, 8, 4]},
        "patch_size": 64,
        "patches_per_epoch": 8,
        "batch_size": 4,
        "epochs": 30,
        "val_fraction": 0.34,
        "device": "cpu",
        "out_dir": str(tmp_path / "unused"),
        "experiment": "tuning-test",
    }
    values.update(changes)
    return TrainConfig(**values)


@pytest.mark.slow
def test_tune_runs_nested_trials_and_writes_a_trainable_best_config(
    plates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    result = tune(
        _base(plates, tmp_path),
        n_trials=2,
        timeout=None,
        search_space=TINY_SPACE,
        study_name="tiny",
        out=tmp_path / "tune",
        epochs=2,
        tracking_uri=uri,
    )
    assert result.n_complete + result.n_pruned == 2
    assert result.best_trial is not None
    assert result.best_value is not None
    assert result.best_config_path == tmp_path / "tune" / "best.yaml"

    best = TrainConfig.from_file(result.best_config_path)
    assert best.epochs == 30  # the base run's length, not the trials'
    assert best.lr == pytest.approx(result.best_params["lr"])
    assert best.loss_weights["dice"] == pytest.approx(result.best_params["dice_weight"])
    assert best.class_weights["root"] == pytest.approx(result.best_params["root_weight"])
    assert best.arch_params == {"encoder_depth": 3, "decoder_channels": [16, 8, 4]}
    assert best.out_dir == str(tmp_path / "tune" / "best")

    client = MlflowClient(tracking_uri=uri)
    assert result.parent_run_id is not None
    parent = client.get_run(result.parent_run_id)
    assert parent.data.params["best.lr"] == str(result.best_params["lr"])
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{result.parent_run_id}'",
    )
    assert len(children) == 2
    assert {run.info.status for run in children} <= {"FINISHED", "KILLED"}
    assert all("val_root_iou" in run.data.metrics for run in children)
    with result.trials_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["state"] for row in rows] == [t["state"] for t in result.trials]

    # the study lives in out/optuna.db: a second call continues it
    again = tune(
        _base(plates, tmp_path, track=False),
        n_trials=1,
        timeout=None,
        search_space=TINY_SPACE,
        study_name="tiny",
        out=tmp_path / "tune",
        epochs=1,
    )
    assert len(again.trials) == 3
    assert again.parent_run_id is None


def test_a_trial_doing_worse_than_the_median_is_pruned(plates: Path, tmp_path: Path) -> None:
    import optuna

    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            return True

    result = tune(
        _base(plates, tmp_path, track=False, patches_per_epoch=4),
        n_trials=1,
        timeout=None,
        search_space=TINY_SPACE,
        study_name="prune",
        storage="sqlite:///" + str(tmp_path / "study.db"),
        out=tmp_path / "tune",
        epochs=3,
        pruner=AlwaysPrune(),
    )
    assert result.n_pruned == 1
    assert result.trials[0]["epochs"] == 1  # stopped after the first epoch
    assert result.best_config is None
    assert not (tmp_path / "tune" / "best.yaml").exists()


def test_apply_params_maps_a_trial_onto_the_config(tmp_path: Path) -> None:
    base = _base(tmp_path, tmp_path)
    changed = apply_params(
        base,
        {
            "architecture": "fpn",
            "encoder": "mobilenet_v2",
            "lr": 0.002,
            "patch_size": 192,
            "dice_weight": 0.5,
            "root_weight": 3.0,
        },
    )
    assert changed.architecture == "fpn"
    assert changed.arch_params == {}
    assert (changed.encoder, changed.lr, changed.patch_size) == ("mobilenet_v2", 0.002, 192)
    assert changed.loss_weights == {"ce": 1.0, "dice": 0.5}
    assert changed.class_weights["root"] == changed.class_weights["occluded_root"] == 3.0
    assert apply_params(base, {}).arch_params == base.arch_params


def test_search_space_checks_names_and_ranges() -> None:
    space = SearchSpace(encoders=()).resolved()
    assert "unet-small" in space.architectures
    with pytest.raises(ModelError, match="unknown architecture 'nope'") as info:
        SearchSpace(
            architectures=("nope",), encoders=("bogus",), lr=(1.0, 0.1), patch_sizes=(100,)
        ).resolved()
    message = str(info.value)
    assert "unknown encoder 'bogus'" in message
    assert "lr must be" in message
    assert "multiples of 32" in message
    assert SearchSpace().to_dict()["patch_sizes"] == [128, 192, 256]


def test_tune_needs_an_end(tmp_path: Path) -> None:
    base = _base(tmp_path, tmp_path)
    with pytest.raises(ModelError, match="n_trials or timeout"):
        tune(base, n_trials=None, timeout=None, out=tmp_path)
    with pytest.raises(ModelError, match="n_trials must be"):
        tune(base, n_trials=0, timeout=None, out=tmp_path)
