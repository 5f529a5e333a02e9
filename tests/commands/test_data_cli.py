"""`visionkit data validate|manifest` on real folders, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from tests.helpers.folders import write_plate
from visionkit.cli import main
from visionkit.data.manifest import Manifest
from visionkit.imageio import write_image


def _good_folder(root: Path) -> Path:
    folder = root / "good"
    folder.mkdir()
    write_plate(folder, "plate_1", seed=1)
    write_plate(folder, "plate_2", seed=2, classes=("root", "shoot", "seed", "occluded_root"))
    return folder


def _bad_folder(root: Path) -> Path:
    folder = root / "bad"
    folder.mkdir()
    write_plate(folder, "plate_1", classes=("root", "seed"))
    write_image(folder / "plate_1_shoot_mask.tif", np.zeros((10, 10), np.uint8))
    write_image(folder / "lonely_root_mask.tif", np.zeros((60, 80), np.uint8))
    write_plate(folder, "plate_2", classes=("root",))
    return folder


def test_validate_reports_counts_for_a_clean_folder(tmp_path: Path) -> None:
    folder = _good_folder(tmp_path)
    (folder / "notes.txt").write_text("x")
    result = CliRunner().invoke(main, ["data", "validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2 images; masks: root 2, shoot 2, seed 2, occluded_root 1" in result.output
    assert "warning: notes.txt: neither image, mask nor landmarks" in result.output
    assert "OK: no problems found" in result.output


def test_validate_exits_non_zero_listing_every_problem(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "validate", str(_bad_folder(tmp_path))])
    assert result.exit_code == 1
    assert "4 problem(s)" in result.output
    for expected in (
        "plate_1_shoot_mask.tif: shoot mask is 10 x 10",
        "lonely_root_mask.tif: orphan root mask",
        "plate_2.png: missing shoot mask",
        "plate_2.png: missing seed mask",
    ):
        assert expected in result.output


def test_validate_can_check_some_classes_or_bare_images(tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    write_plate(folder, "a", classes=("root",))
    runner = CliRunner()
    assert runner.invoke(main, ["data", "validate", str(folder), "--class", "root"]).exit_code == 0
    assert runner.invoke(main, ["data", "validate", str(folder), "--no-masks"]).exit_code == 0
    assert runner.invoke(main, ["data", "validate", str(folder)]).exit_code == 1


def test_validate_json_is_machine_readable(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "validate", str(_bad_folder(tmp_path)), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output[: result.output.rindex("}") + 1])
    assert report["ok"] is False
    assert len(report["problems"]) == 4
    assert report["images"] == 2


def test_validate_a_missing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "validate", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "the folder does not exist" in result.output


def test_manifest_writes_beside_the_data_and_prints_the_version(tmp_path: Path) -> None:
    folder = _good_folder(tmp_path)
    result = CliRunner().invoke(main, ["data", "manifest", str(folder)])
    assert result.exit_code == 0, result.output
    written = Manifest.read(folder / "manifest.json")
    assert f"version: {written.version}" in result.output
    assert "files: 9  images: 2  masks: 7" in result.output
    assert "class pixel shares: root " in result.output

    again = CliRunner().invoke(main, ["data", "manifest", str(folder)])
    assert f"version: {written.version}" in again.output  # its own file is not data


def test_manifest_out_goes_where_asked(tmp_path: Path) -> None:
    folder = _good_folder(tmp_path)
    out = tmp_path / "versions" / "v1.json"
    result = CliRunner().invoke(main, ["data", "manifest", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert Manifest.read(out).n_images == 2
    assert not (folder / "manifest.json").exists()

    inside = folder / "v1.json"
    first = CliRunner().invoke(main, ["data", "manifest", str(folder), "--out", str(inside)])
    second = CliRunner().invoke(main, ["data", "manifest", str(folder), "--out", str(inside)])
    assert first.output.splitlines()[0] == second.output.splitlines()[0]


def test_manifest_of_a_broken_folder_writes_nothing(tmp_path: Path) -> None:
    folder = _bad_folder(tmp_path)
    result = CliRunner().invoke(main, ["data", "manifest", str(folder)])
    assert result.exit_code == 1
    assert "not writing a manifest, 4 problem(s)" in result.output
    assert "lonely_root_mask.tif" in result.output
    assert not (folder / "manifest.json").exists()


def test_data_help_lists_both_commands() -> None:
    result = CliRunner().invoke(main, ["data", "--help"])
    assert result.exit_code == 0
    assert "validate" in result.output
    assert "manifest" in result.output
