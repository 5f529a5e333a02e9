"""TrainConfig: round trips, errors that name every bad value, resume comparisons."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionkit.exceptions import ModelError
from visionkit.training.config import RESUMABLE_KEYS, TrainConfig


def test_defaults_follow_the_design() -> None:
    config = TrainConfig(data_dir="plates")
    assert config.architecture == "unet-small"
    assert config.classes == ("background", "root", "shoot", "seed", "occluded_root")
    assert config.data_classes == ("root", "shoot", "seed", "occluded_root")
    assert (config.scale, config.patch_size, config.device) == (0.5, 256, "auto")
    assert config.higher_is_better  # val_root_iou


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_file_round_trip_keeps_every_setting(tmp_path: Path, suffix: str) -> None:
    config = TrainConfig(
        data_dir=tmp_path / "plates",
        val_dir=tmp_path / "val",
        encoder="resnet18",
        arch_params={"encoder_depth": 3},
        class_weights={"root": 5.0},
        normalize=(0.4, 0.2),
        schedule="onecycle",
    )
    path = config.to_file(tmp_path / f"config{suffix}")
    again = TrainConfig.from_file(path)
    assert again == config
    assert isinstance(again.classes, tuple)
    assert isinstance(again.normalize, tuple)
    assert again.val_dir == str(tmp_path / "val")


def test_partial_yaml_takes_defaults_for_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data_dir: plates\nepochs: 3\n")
    config = TrainConfig.from_file(path)
    assert (config.epochs, config.lr) == (3, TrainConfig(data_dir="x").lr)


def test_unknown_key_suggests_the_nearest_and_lists_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data_dir: plates\nepoch: 3\npatches_per_epch: 64\nzzz: 1\n")
    with pytest.raises(ModelError) as info:
        TrainConfig.from_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: unknown keys 'epoch' (did you mean 'epochs'?), ")
    assert "'patches_per_epch' (did you mean 'patches_per_epoch'?), 'zzz';" in message
    assert "valid keys are: amp, arch_params," in message


def test_a_run_is_named_after_its_folder_unless_named(tmp_path: Path) -> None:
    assert TrainConfig(data_dir="x", out_dir=str(tmp_path / "root-unet")).name == "root-unet"
    assert TrainConfig(data_dir="x", out_dir="runs/a", name="mine").name == "mine"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[1, 2]", "must be a mapping"),
        ("data_dir: [unclosed", "not valid JSON/YAML"),
        ("epochs: 3", "missing 'data_dir'"),
    ],
)
def test_malformed_files_say_what_is_wrong(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ModelError, match=match):
        TrainConfig.from_file(path)


def test_missing_file_and_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        TrainConfig.from_file(tmp_path / "nope.yaml")
    with pytest.raises(ModelError, match=r"\.json, \.yaml or \.yml"):
        TrainConfig(data_dir="x").to_file(tmp_path / "c.txt")


def test_every_bad_value_is_listed_at_once() -> None:
    with pytest.raises(ModelError) as info:
        TrainConfig(
            data_dir="x",
            epochs=0,
            lr=-1,
            schedule="linear",
            loss="focal",
            device="tpu",
            patch_size=100,
            scale_jitter=1.5,
            classes=("root", "shoot"),
            early_stopping_metric="val_banana",
            loss_weights={"l1": 1.0},
        )
    message = str(info.value)
    for expected in (
        "epochs must be >= 1",
        "lr must be positive",
        "schedule 'linear' is unknown; valid: cosine, onecycle, constant",
        "loss 'focal' is unknown",
        "device 'tpu' is unknown",
        "multiple of 32",
        "scale_jitter must be in [0, 1)",
        "must start with 'background'",
        "val_banana",
        "unknown terms ['l1']",
    ):
        assert expected in message


def test_classes_must_be_data_classes_and_include_root() -> None:
    with pytest.raises(ModelError, match="distinct names among"):
        TrainConfig(data_dir="x", classes=("background", "leaf"))
    with pytest.raises(ModelError, match="must include 'root'"):
        TrainConfig(data_dir="x", classes=("background", "shoot"))
    with pytest.raises(ModelError, match="not trained"):
        TrainConfig(
            data_dir="x", classes=("background", "root")
        )  # default weights name occluded_root


def test_model_params_add_the_encoder() -> None:
    config = TrainConfig(data_dir="x", encoder="resnet18", arch_params={"encoder_depth": 3})
    assert config.model_params == {"encoder_depth": 3, "encoder_name": "resnet18"}
    assert TrainConfig(data_dir="x").model_params == {}


def test_loss_metric_is_minimised() -> None:
    assert not TrainConfig(data_dir="x", early_stopping_metric="val_loss").higher_is_better


def test_flat_view_for_tracking() -> None:
    flat = TrainConfig(data_dir="x", arch_params={}).flat()
    assert flat["classes"] == "background,root,shoot,seed,occluded_root"
    assert flat["class_weights.root"] == "2.0"
    assert flat["arch_params"] == "{}"
    assert flat["epochs"] == "20"


def test_differences_ignore_resumable_keys() -> None:
    base = TrainConfig(data_dir="x")
    other = base.replace(epochs=50, lr=0.5, patch_size=128, device="cpu")
    assert base.differences(other) == ["device", "epochs", "lr", "patch_size"]
    assert base.differences(other, ignore=RESUMABLE_KEYS) == ["lr", "patch_size"]


def test_bad_types_in_a_file_become_model_errors() -> None:
    with pytest.raises(ModelError, match="training config"):
        TrainConfig.from_dict({"data_dir": "x", "normalize": [1, 2, 3]})
