"""Running ``visionkit predict`` twice into one folder leaves the files of one run.

Robot code reads these files as the plates' targets: a second set of rows
for the same plate would send the robot to each tip twice.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from visionkit.cli import main


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic dish crop, made by ``visionkit synth`` as a user would."""
    folder = tmp_path_factory.mktemp("plates")
    result = CliRunner().invoke(
        main,
        ["synth", "--out", str(folder), "--n", "1", "--seed", "7", "--crop", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    (image,) = [p for p in folder.glob("*.png") if not p.stem.endswith("_mask")]
    return image


def _predict(plate: Path, out: Path) -> None:
    args = ["predict", str(plate), "--out", str(out), "--adapter", "json,csv,coco"]
    result = CliRunner().invoke(main, [*args, "--no-overlay", "--calibration", "ot2"])
    assert result.exit_code == 0, result.output


def _without_timings(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("timing_ms")
    return data


def test_predicting_a_plate_twice_gives_the_files_of_one_run(plate: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _predict(plate, out)
    first_csv = (out / "predictions.csv").read_text()
    first_coco = (out / "predictions_coco.json").read_text()
    first_json = _without_timings(out / f"{plate.stem}.json")

    _predict(plate, out)

    with (out / "predictions.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(first_json["plants"]) == 5, "one row per plant, not per run"
    assert (out / "predictions.csv").read_text() == first_csv
    assert (out / "predictions_coco.json").read_text() == first_coco
    assert len(json.loads(first_coco)["annotations"]) == 5
    assert _without_timings(out / f"{plate.stem}.json") == first_json
