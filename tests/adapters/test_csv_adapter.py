"""The ``csv`` adapter: one row per plant, each image once across images and runs."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from visionkit.adapters.csv_adapter import COLUMNS
from visionkit.exceptions import AdapterError
from visionkit.plugins import create_adapter


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_plant_with_the_documented_columns(
    tmp_path: Path, make_prediction
) -> None:
    with create_adapter("csv", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction())

    path = tmp_path / "predictions.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header == list(COLUMNS)
    rows = _read(path)
    assert [r["plant"] for r in rows] == ["1", "2", "3", "4", "5"]
    first = rows[0]
    assert first["image"] == "plate_001.png"
    assert (first["width"], first["height"]) == ("2600", "2600")
    assert (first["model_name"], first["model_version"]) == ("root-unet", "3")
    assert float(first["tip_x"]) == pytest.approx(406.5)
    assert float(first["tip_y"]) == pytest.approx(1930.25)
    assert float(first["tip_confidence"]) == pytest.approx(0.82)
    assert float(first["start_confidence"]) == pytest.approx(0.93)
    assert float(first["primary_root_length_mm"]) == pytest.approx(55.5)
    assert first["robot_frame"] == "ot2"
    assert float(first["robot_z"]) == pytest.approx(0.057)
    assert first["reason"] == ""


def test_csv_missing_tip_leaves_cells_empty_and_gives_the_reason(
    tmp_path: Path, make_prediction
) -> None:
    adapter = create_adapter("csv", out_dir=tmp_path)
    adapter.write(make_prediction(missing=(3,)))
    adapter.close()
    missing = _read(tmp_path / "predictions.csv")[2]
    for column in ("tip_x", "tip_y", "tip_confidence", "robot_frame", "robot_x", "robot_z"):
        assert missing[column] == "", column
    assert missing["reason"] == "root not found"
    assert missing["start_x"] != ""


def test_csv_gives_a_default_reason_and_lists_images_without_plants(
    tmp_path: Path, make_prediction
) -> None:
    from visionkit.prediction import Plant

    with create_adapter("csv", out_dir=tmp_path, filename="out.csv") as adapter:
        adapter.write(make_prediction("a.png", plants=[Plant(1, tip=None, start=None)]))
        adapter.write(make_prediction("empty.png", plants=[]))
    rows = _read(tmp_path / "out.csv")
    assert rows[0]["reason"] == "tip not found"
    assert (rows[1]["image"], rows[1]["plant"], rows[1]["reason"]) == (
        "empty.png",
        "",
        "no plants found",
    )


def test_csv_appends_images_and_later_runs_under_one_header(
    tmp_path: Path, make_prediction
) -> None:
    with create_adapter("csv", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction("a.png"))
        adapter.write(make_prediction("b.png", plants=2, missing=()))
    with create_adapter("csv", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction("c.png", plants=1, missing=()))

    path = tmp_path / "predictions.csv"
    assert path.read_text().count("image,width") == 1
    assert [r["image"] for r in _read(path)] == ["a.png"] * 5 + ["b.png"] * 2 + ["c.png"]


def test_csv_rerunning_an_image_replaces_its_rows_in_place(tmp_path: Path, make_prediction) -> None:
    with create_adapter("csv", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction("a.png"))
        adapter.write(make_prediction("b.png", plants=2, missing=()))
    once = (tmp_path / "predictions.csv").read_text()
    with create_adapter("csv", out_dir=tmp_path) as adapter:  # a second run of the same plates
        adapter.write(make_prediction("a.png"))
        adapter.write(make_prediction("b.png", plants=2, missing=()))
    assert (tmp_path / "predictions.csv").read_text() == once

    with create_adapter("csv", out_dir=tmp_path) as adapter:  # a.png again, now with 1 plant
        adapter.write(make_prediction("a.png", plants=1, missing=()))
    rows = _read(tmp_path / "predictions.csv")
    assert [(r["image"], r["plant"]) for r in rows] == [
        ("a.png", "1"),
        ("b.png", "1"),
        ("b.png", "2"),
    ]


def test_csv_the_same_image_twice_in_one_run_keeps_the_last_rows(
    tmp_path: Path, make_prediction
) -> None:
    with create_adapter("csv", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction("a.png", plants=2, missing=()))
        adapter.write(make_prediction("a.png", plants=2, missing=(2,)))
    rows = _read(tmp_path / "predictions.csv")
    assert [r["plant"] for r in rows] == ["1", "2"]
    assert rows[1]["tip_x"] == ""
    assert not list(tmp_path.glob(".predictions.csv.*"))  # no temporary file left


def test_csv_rows_are_on_disk_before_close(tmp_path: Path, make_prediction) -> None:
    adapter = create_adapter("csv", out_dir=tmp_path)
    adapter.write(make_prediction(plants=2, missing=()))
    assert len(_read(tmp_path / "predictions.csv")) == 2
    adapter.close()


def test_csv_refuses_a_file_with_another_header(tmp_path: Path, make_prediction) -> None:
    path = tmp_path / "predictions.csv"
    path.write_text("image,score\nold.png,0.5\n")
    expected = f"{re.escape(str(path))} exists with a different header"
    with pytest.raises(AdapterError, match=expected) as info:
        create_adapter("csv", out_dir=tmp_path)
    assert "overwrite=True" in str(info.value)
    assert path.read_text() == "image,score\nold.png,0.5\n"


def test_csv_overwrite_starts_afresh(tmp_path: Path, make_prediction) -> None:
    path = tmp_path / "predictions.csv"
    path.write_text("image,score\nold.png,0.5\n")
    with create_adapter("csv", out_dir=tmp_path, overwrite=True) as adapter:
        adapter.write(make_prediction(plants=1, missing=()))
    rows = _read(path)
    assert [r["image"] for r in rows] == ["plate_001.png"]


def test_csv_takes_an_empty_existing_file(tmp_path: Path, make_prediction) -> None:
    (tmp_path / "predictions.csv").write_text("")
    with create_adapter("csv", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction(plants=1, missing=()))
    assert len(_read(tmp_path / "predictions.csv")) == 1


def test_csv_refuses_a_binary_existing_file(tmp_path: Path) -> None:
    (tmp_path / "predictions.csv").write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(AdapterError, match="cannot be read as CSV"):
        create_adapter("csv", out_dir=tmp_path)


@pytest.mark.parametrize("filename", ["", "sub/out.csv"])
def test_csv_filename_must_be_a_plain_name(tmp_path: Path, filename: str) -> None:
    with pytest.raises(AdapterError, match="must be a plain file name"):
        create_adapter("csv", out_dir=tmp_path, filename=filename)


def test_csv_refuses_writes_after_close(tmp_path: Path, make_prediction) -> None:
    adapter = create_adapter("csv", out_dir=tmp_path)
    adapter.close()
    with pytest.raises(AdapterError, match="is closed"):
        adapter.write(make_prediction())


def test_csv_reports_a_file_it_cannot_open(tmp_path: Path, make_prediction) -> None:
    adapter = create_adapter("csv", out_dir=tmp_path)
    (tmp_path / "predictions.csv").mkdir()  # a folder where the file should go
    with pytest.raises(AdapterError, match=r"cannot write .*predictions\.csv"):
        adapter.write(make_prediction())
