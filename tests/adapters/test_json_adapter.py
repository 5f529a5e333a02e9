"""The ``json`` adapter writes the prediction contract and mask PNGs."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from visionkit.exceptions import AdapterError
from visionkit.imageio import read_image, read_mask
from visionkit.plugins import create_adapter
from visionkit.prediction import Keypoint, Plant, Prediction


def _contract(prediction: Prediction) -> dict[str, object]:
    data = prediction.to_dict()
    data.pop("masks")
    return data


def test_json_round_trips_the_contract(tmp_path: Path, make_prediction) -> None:
    prediction = make_prediction("scans/plate_001.png")
    with create_adapter("json", out_dir=tmp_path) as adapter:
        adapter.write(prediction)

    written = json.loads((tmp_path / "plate_001.json").read_text())
    again = Prediction.from_dict(written)
    assert again.to_dict() == prediction.to_dict()
    assert again.plants[2].tip is None
    assert again.plants[2].reason == "root not found"
    assert again.plants[0].robot is not None
    assert written["image"] == "scans/plate_001.png"


def test_json_writes_masks_as_1_bit_pngs_named_in_the_json(tmp_path: Path, make_prediction) -> None:
    prediction = make_prediction(masks=True, width=64, height=48, plants=1, missing=())
    prediction.mask_arrays["root"][:] = 0
    prediction.mask_arrays["root"][10:30, 20:22] = 1

    create_adapter("json", out_dir=tmp_path).write(prediction)

    data = json.loads((tmp_path / "plate_001.json").read_text())
    assert data["masks"] == {
        "root": "plate_001_root_mask.png",
        "shoot": "plate_001_shoot_mask.png",
    }
    import cv2
    from PIL import Image

    with Image.open(tmp_path / "plate_001_root_mask.png") as png:
        assert png.mode == "1", "masks are 1-bit files"
    raw = cv2.imread(str(tmp_path / "plate_001_root_mask.png"), cv2.IMREAD_UNCHANGED)
    assert raw.shape == (48, 64)
    assert set(np.unique(raw).tolist()) == {0, 255}
    assert (read_image(tmp_path / "plate_001_root_mask.png")[0] == raw).all()
    assert read_mask(tmp_path / "plate_001_root_mask.png").sum() == 40
    assert prediction.masks == {}, "the caller's prediction must not be changed"
    assert _contract(Prediction.from_dict(data)) == _contract(prediction)


def test_json_masks_can_be_switched_off(tmp_path: Path, make_prediction) -> None:
    create_adapter("json", out_dir=tmp_path, masks=False).write(
        make_prediction(masks=True, width=32, height=32)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate_001.json"]


@pytest.mark.parametrize("off", ["false", "No", "off", "0", False])
def test_json_masks_switched_off_by_the_cli_text(tmp_path: Path, make_prediction, off) -> None:
    create_adapter("json", out_dir=tmp_path, masks=off).write(
        make_prediction(masks=True, width=32, height=32)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate_001.json"]


def test_json_indent_given_as_text(tmp_path: Path, make_prediction) -> None:
    create_adapter("json", out_dir=tmp_path / "four", indent="4").write(make_prediction())
    assert '\n    "image"' in (tmp_path / "four" / "plate_001.json").read_text()
    create_adapter("json", out_dir=tmp_path / "none", indent="none").write(make_prediction())
    assert (tmp_path / "none" / "plate_001.json").read_text().count("\n") == 1


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"masks": "maybe"}, "masks='maybe': give true or false"),
        ({"indent": "wide"}, "indent='wide': give a whole number >= 0 or none"),
        ({"indent": -1}, "give a whole number >= 0"),
        ({"indent": True}, "give a whole number >= 0"),
    ],
)
def test_json_refuses_option_values_it_cannot_read(tmp_path: Path, options, said) -> None:
    with pytest.raises(AdapterError, match=said):
        create_adapter("json", out_dir=tmp_path, **options)


def test_json_refuses_a_mask_of_the_wrong_size(tmp_path: Path, make_prediction) -> None:
    prediction = make_prediction(width=64, height=48)
    prediction.mask_arrays["root"] = np.zeros((10, 10), dtype=np.uint8)
    with pytest.raises(AdapterError, match=r"root mask has shape \(10, 10\), expected"):
        create_adapter("json", out_dir=tmp_path).write(prediction)
    assert not (tmp_path / "plate_001.json").exists()


def test_json_refuses_nan_and_writes_nothing(tmp_path: Path, make_prediction) -> None:
    bad = Plant(1, tip=Keypoint(10.0, 20.0, math.nan), start=None)
    prediction = make_prediction("nan_plate.png", plants=[bad])
    with pytest.raises(AdapterError, match=r"nan_plate\.png: the prediction holds NaN"):
        create_adapter("json", out_dir=tmp_path).write(prediction)
    assert list(tmp_path.iterdir()) == []


def test_json_replaces_an_earlier_file_whole(tmp_path: Path, make_prediction) -> None:
    (tmp_path / "plate_001.json").write_text('{"half": ')
    create_adapter("json", out_dir=tmp_path, indent=None).write(make_prediction())
    text = (tmp_path / "plate_001.json").read_text()
    assert json.loads(text)["image"] == "plate_001.png"
    assert text.count("\n") == 1, "indent=None writes one line"
    assert [p.name for p in tmp_path.iterdir()] == ["plate_001.json"], "no temp file left"


def test_json_warns_when_two_images_share_a_stem(tmp_path: Path, make_prediction, caplog) -> None:
    adapter = create_adapter("json", out_dir=tmp_path)
    adapter.write(make_prediction("a/plate.png"))
    with caplog.at_level(logging.WARNING):
        adapter.write(make_prediction("b/plate.png"))
    assert "b/plate.png" in caplog.text
    assert "overwriting" in caplog.text
    assert json.loads((tmp_path / "plate.json").read_text())["image"] == "b/plate.png"


def test_json_defaults_to_the_current_folder(tmp_path: Path, make_prediction, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    create_adapter("json").write(make_prediction())
    assert (tmp_path / "plate_001.json").is_file()


def test_json_reports_a_mask_it_cannot_write(tmp_path: Path, make_prediction) -> None:
    (tmp_path / "plate_001_root_mask.png").mkdir()  # a folder where the mask should go
    with pytest.raises(AdapterError, match=r"cannot write .*plate_001_root_mask\.png"):
        create_adapter("json", out_dir=tmp_path).write(
            make_prediction(masks=True, width=8, height=8)
        )
    assert not (tmp_path / "plate_001.json").exists()


def test_json_files_are_readable_by_others_like_the_masks(tmp_path: Path, make_prediction) -> None:
    import os
    import stat

    umask = os.umask(0o022)
    try:
        with create_adapter("json", out_dir=tmp_path) as adapter:
            adapter.write(make_prediction("plate_002.png"))
    finally:
        os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "plate_002.json").stat().st_mode)
    assert mode & stat.S_IROTH, oct(mode)
