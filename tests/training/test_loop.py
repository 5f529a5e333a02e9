"""train(): reproducible, resumable with nothing lost, and saves usable models."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.helpers.training import ConfigFactory, tiny_settings
from visionkit.exceptions import DatasetError, ModelError
from visionkit.imageio import read_image
from visionkit.modelfolder import load_model
from visionkit.training import StepInfo, TrainConfig, TrainResult, train


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(plates: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """An uninterrupted two-epoch run (shared: read only)."""
    out = tmp_path_factory.mktemp("reference")
    return train(TrainConfig(**tiny_settings(plates, out)), progress=False)


def test_a_run_leaves_models_plots_and_a_log(reference: TrainResult) -> None:
    out = reference.out_dir
    assert reference.epochs_done == 2
    assert not reference.interrupted
    assert [row["epoch"] for row in reference.history] == [1.0, 2.0]
    for key in ("train_loss", "val_loss", "val_root_iou", "val_root_f1", "lr", "patches_per_s"):
        assert key in reference.metrics
    assert reference.metrics["patches_per_s"] > 0
    assert 0.0 <= reference.metrics["data_wait_share"] <= 1.0
    assert "% of it waiting for data" in (reference.out_dir / "train.log").read_text()
    for name in ("best", "last"):
        saved = load_model(out / name)
        assert saved.config.classes[0] == "background"
        assert saved.config.scale == 0.125
        assert saved.config.patch_size == 64
        extra = saved.config.extra
        assert extra["data_version"] == reference.data_version
        assert extra["code_version"].startswith(("git:", "visionkit=="))
        assert extra["train_config"]["epochs"] == 2
        assert "val_root_iou" in extra["metrics"]
    assert load_model(out / "last").config.extra["epoch"] == 2
    card = (out / "best" / "MODEL_CARD.md").read_text()
    assert reference.data_version in card
    assert "visionkit.training.train(" in card
    assert "| root |" in card
    assert "val_loss" in card
    log = (out / "train.log").read_text()
    assert "epoch 1/2: train loss" in log
    assert "epoch 2/2" in log
    assert "done: best" in log
    assert (out / "curves.png").stat().st_size > 1000
    overlays = sorted((out / "overlays").glob("*.png"))
    assert overlays, "validation overlays are written"
    picture, _ = read_image(overlays[0])
    assert picture.ndim == 3
    assert picture.shape[2] == 3
    assert TrainConfig.from_file(out / "train_config.yaml").epochs == 2


def test_same_seed_same_weights_other_seed_other_weights(
    reference: TrainResult, make_config: ConfigFactory, tmp_path: Path
) -> None:
    again = train(make_config(out_dir=str(tmp_path / "again")), progress=True)
    assert _same(_weights(again.out_dir / "last"), _weights(reference.out_dir / "last"))
    timed = ("patches_per_s", "data_wait_share")
    timeless = [{k: v for k, v in row.items() if k not in timed} for row in again.history]
    expected = [{k: v for k, v in row.items() if k not in timed} for row in reference.history]
    assert repr(timeless) == repr(expected)  # repr: nan scores compare equal
    other = train(make_config(out_dir=str(tmp_path / "other"), seed=1, epochs=1), progress=False)
    assert not _same(_weights(other.out_dir / "last"), _weights(reference.out_dir / "last"))


def _interrupt_at(epoch: int, step: int) -> Callable[[StepInfo], None]:
    def on_step(info: StepInfo) -> None:
        if (info.epoch, info.step) == (epoch, step):
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does

    return on_step


@pytest.mark.parametrize(
    ("epoch", "step"), [(0, 1), (1, 2)], ids=["mid-epoch", "before-validation"]
)
def test_ctrl_c_then_resume_gives_the_uninterrupted_weights(
    reference: TrainResult, make_config: ConfigFactory, epoch: int, step: int
) -> None:
    config = make_config()
    stopped = train(config, progress=False, on_step=_interrupt_at(epoch, step))
    assert stopped.interrupted
    assert stopped.last_dir is None
    assert stopped.epochs_done == epoch
    log = (stopped.out_dir / "train.log").read_text()
    assert f"interrupted in epoch {epoch + 1} (step {step} of 2)" in log
    assert "--resume" in log
    resumed = train(config, resume=True, progress=False)
    assert resumed.resumed_at == epoch + 1
    assert not resumed.interrupted
    assert _same(_weights(resumed.out_dir / "last"), _weights(reference.out_dir / "last"))
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in reference.history]
    assert (
        f"resumed at epoch {epoch + 1} (step {step} of 2)"
        in (resumed.out_dir / "train.log").read_text()
    )


def test_second_ctrl_c_stops_at_once_keeping_the_last_epoch(
    reference: TrainResult, make_config: ConfigFactory
) -> None:
    def on_step(info: StepInfo) -> None:
        if (info.epoch, info.step) == (1, 1):
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)  # impatient: the second one stops at once

    config = make_config()
    stopped = train(config, progress=False, on_step=on_step)
    assert stopped.interrupted
    assert stopped.epochs_done == 1
    assert (
        "stopped at once; the previous checkpoint is kept"
        in (stopped.out_dir / "train.log").read_text()
    )
    resumed = train(config, resume=True, progress=False)
    assert resumed.resumed_at == 2
    assert _same(_weights(resumed.out_dir / "last"), _weights(reference.out_dir / "last"))


def test_training_in_a_worker_thread(make_config: ConfigFactory) -> None:
    """A portal job trains outside the main thread, where no SIGINT handler can be set."""
    results: list[TrainResult] = []
    worker = threading.Thread(
        target=lambda: results.append(
            train(make_config(epochs=1, channels_last=False), progress=False)
        )
    )
    worker.start()
    worker.join(timeout=120)
    assert results
    assert results[0].epochs_done == 1
    assert load_model(results[0].out_dir / "best").config.architecture == "unet"


def test_resume_with_more_epochs_continues_the_history(make_config: ConfigFactory) -> None:
    train(make_config(epochs=1), progress=False)
    longer = train(make_config(epochs=2), resume=True, progress=False)
    assert longer.resumed_at == 2
    assert [r["epoch"] for r in longer.history] == [1.0, 2.0]


def test_resume_refuses_changed_settings_naming_them(make_config: ConfigFactory) -> None:
    train(make_config(epochs=1), progress=False)
    with pytest.raises(ModelError, match=r"differs from the checkpoint's in lr, seed") as info:
        train(make_config(epochs=2, lr=0.5, seed=9), resume=True, progress=False)
    assert "0.001 in the checkpoint, 0.5 now" in str(info.value)


def test_resume_refuses_changed_data(
    make_config: ConfigFactory, plates: Path, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(plates, copy)
    train(make_config(epochs=1, data_dir=str(copy)), progress=False)
    (copy / "notes.txt").write_text("a new file is a new data version")
    with pytest.raises(ModelError, match="the data changed since the checkpoint"):
        train(make_config(epochs=2, data_dir=str(copy)), resume=True, progress=False)


def test_resume_without_checkpoint_and_overwrite_are_refused(make_config: ConfigFactory) -> None:
    with pytest.raises(ModelError, match="no checkpoint to resume from"):
        train(make_config(), resume=True, progress=False)
    train(make_config(epochs=1), progress=False)
    with pytest.raises(ModelError, match="pass --resume to continue it"):
        train(make_config(epochs=1), progress=False)


def test_unknown_architecture_and_encoder_list_the_valid_ones(make_config: ConfigFactory) -> None:
    with pytest.raises(ModelError, match="unet-small") as info:
        train(make_config(architecture="unet3d", out_dir=str(Path(make_config().out_dir) / "a")))
    assert "unknown architecture 'unet3d'" in str(info.value)
    with pytest.raises(ModelError, match="resnet18") as info:
        train(make_config(encoder="resnet999", out_dir=str(Path(make_config().out_dir) / "e")))
    assert "unknown encoder 'resnet999'" in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_fails_before_any_work(make_config: ConfigFactory) -> None:
    with pytest.raises(ModelError, match="--device auto or --device cpu"):
        train(make_config(device="cuda"), progress=False)


def test_empty_data_folder(make_config: ConfigFactory, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no images"):
        train(make_config(data_dir=str(tmp_path / "empty")), progress=False)


def test_early_stopping_stops_at_the_first_flat_stretch(make_config: ConfigFactory) -> None:
    result = train(
        make_config(
            epochs=3,
            early_stopping_patience=1,
            early_stopping_metric="val_loss",
            schedule="constant",
            lr=0.05,
        ),
        progress=False,
    )
    losses = [row["val_loss"] for row in result.history]
    worse = [i for i in range(1, len(losses)) if losses[i] >= min(losses[:i])]
    if worse:
        assert result.stopped_early
        assert len(losses) == worse[0] + 1
    else:
        assert not result.stopped_early
        assert len(losses) == 3
    best = json.loads((result.out_dir / "best" / "config.json").read_text())
    assert best["extra"]["epoch"] == result.best_epoch
    assert result.best_metric == min(losses)


def test_time_limit_ends_the_run_after_the_epoch_that_used_it_up(
    make_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="visionkit.training")
    result = train(make_config(epochs=3, time_limit=1e-4), progress=False)
    assert result.epochs_done == 1
    assert not result.stopped_early
    assert not result.interrupted
    assert result.last_dir is not None
    assert (result.last_dir / "model.safetensors").is_file()
    assert "1 of 3 epochs fit" in caplog.text
    assert "time limit 0.0 min reached after epoch 1" in caplog.text


def test_a_generous_time_limit_changes_nothing(make_config: ConfigFactory) -> None:
    limited = train(make_config(epochs=2, time_limit=600.0), progress=False)
    assert limited.epochs_done == 2
    assert [row["lr"] for row in limited.history] == pytest.approx(
        [
            row["lr"]
            for row in train(
                make_config(epochs=2, out_dir=str(Path(limited.out_dir) / "b")), progress=False
            ).history
        ]
    )


def test_init_from_starts_at_a_saved_models_weights(make_config: ConfigFactory) -> None:
    first = train(make_config(epochs=1), progress=False)
    assert first.best_dir is not None
    out = Path(first.out_dir) / "fine-tuned"
    still = train(
        make_config(
            epochs=1,
            init_from=str(first.best_dir),
            lr=1e-12,
            schedule="constant",
            out_dir=str(out),
        ),
        progress=False,
    )
    assert still.last_dir is not None
    start, after = _weights(first.best_dir), _weights(still.last_dir)
    assert start.keys() == after.keys()
    # Learned parameters stay put at a vanishing learning rate (batch-norm
    # running statistics still follow the new batches, so they are left out).
    learned = [k for k in start if "running_" not in k and "num_batches" not in k]
    assert all(torch.allclose(start[k], after[k], atol=1e-6) for k in learned)


def test_init_from_a_different_architecture_is_refused(make_config: ConfigFactory) -> None:
    first = train(make_config(epochs=1), progress=False)
    assert first.best_dir is not None
    other = make_config(
        epochs=1,
        init_from=str(first.best_dir),
        arch_params={"encoder_depth": 3, "decoder_channels": [8, 8, 8]},
        out_dir=str(Path(first.out_dir) / "other"),
    )
    with pytest.raises(ModelError, match="cannot start from this model") as info:
        train(other, progress=False)
    assert "params" in str(info.value)


def test_ctrl_c_to_the_process_group_with_workers_stops_once(plates: Path, tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches the DataLoader workers too; only the trainer acts on it."""
    import os
    import subprocess
    import sys
    import time

    import yaml

    from tests.helpers.training import tiny_settings

    out = tmp_path / "run"
    # Long epochs, so the workers are alive when the signal comes.
    settings = {
        **tiny_settings(plates, out),
        "epochs": 200,
        "num_workers": 2,
        "patches_per_epoch": 800,
        "val_fraction": 0.125,
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(settings))
    process = subprocess.Popen(
        [sys.executable, "-m", "visionkit", "train", "--config", str(config), "--no-progress"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = out / "train.log"
    try:
        deadline = time.monotonic() + 120
        while "epoch 1/200" not in (log.read_text() if log.is_file() else ""):
            assert process.poll() is None, "training ended before it could be interrupted"
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        time.sleep(1.5)  # into epoch 2, its workers running
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) != 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = log.read_text()
    assert text.count("interrupt: stopping after this batch") == 1
    assert "stopped at once" not in text
    assert "interrupted in epoch 2" in text


def test_a_run_without_deterministic_kernels_trains(make_config: ConfigFactory) -> None:
    result = train(make_config(epochs=1, deterministic=False), progress=False)
    assert result.epochs_done == 1
    assert result.best_dir is not None
    config = TrainConfig.read_dict(Path(result.out_dir) / "train_config.yaml")
    assert config["deterministic"] is False
