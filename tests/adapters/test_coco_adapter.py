"""The ``coco`` adapter writes a COCO keypoints file that pycocotools accepts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from visionkit.exceptions import AdapterError
from visionkit.plugins import create_adapter
from visionkit.prediction import Keypoint, Plant

pycocotools = pytest.importorskip("pycocotools", reason="pycocotools validates the COCO layout")


def _write(tmp_path: Path, *predictions, **options) -> dict:
    with create_adapter("coco", out_dir=tmp_path, **options) as adapter:
        for prediction in predictions:
            adapter.write(prediction)
        assert not (tmp_path / options.get("filename", "predictions_coco.json")).exists(), (
            "written on close only"
        )
    return json.loads((tmp_path / options.get("filename", "predictions_coco.json")).read_text())


def test_coco_file_loads_in_pycocotools(tmp_path: Path, make_prediction) -> None:
    from pycocotools.coco import COCO

    _write(tmp_path, make_prediction("a.png"), make_prediction("b.png", plants=2, missing=()))

    coco = COCO(str(tmp_path / "predictions_coco.json"))
    assert sorted(coco.getImgIds()) == [1, 2]
    assert coco.loadImgs(2)[0]["file_name"] == "b.png"
    assert len(coco.getAnnIds(imgIds=[1])) == 5
    assert len(coco.getAnnIds(imgIds=[2])) == 2
    category = coco.loadCats(1)[0]
    assert category["name"] == "plant"
    assert category["keypoints"] == ["root_start", "root_tip"]
    assert category["skeleton"] == [[1, 2]]


def test_coco_predictions_score_perfectly_against_themselves(
    tmp_path: Path, make_prediction
) -> None:
    """COCOeval reads our keypoints, boxes and areas: the file is usable for evaluation."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    data = _write(tmp_path, make_prediction(missing=()))
    truth = COCO(str(tmp_path / "predictions_coco.json"))
    results = truth.loadRes(
        [
            {k: a[k] for k in ("image_id", "category_id", "keypoints", "score")}
            for a in data["annotations"]
        ]
    )
    evaluator = COCOeval(truth, results, iouType="keypoints")
    evaluator.params.kpt_oks_sigmas = np.array([0.05, 0.05])
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)


def test_coco_annotation_fields(tmp_path: Path, make_prediction) -> None:
    data = _write(tmp_path, make_prediction(missing=(3,)), margin=5)
    first, missing = data["annotations"][0], data["annotations"][2]

    assert first["keypoints"] == [400.0, 820.0, 2, 406.5, 1930.25, 2]
    assert first["num_keypoints"] == 2
    assert first["keypoint_scores"] == [0.93, 0.82]
    assert first["score"] == pytest.approx((0.93 + 0.82) / 2, abs=1e-4)
    assert first["bbox"] == [395.0, 815.0, 16.5, 1120.25]
    assert first["area"] == pytest.approx(16.5 * 1120.25, abs=0.01)
    assert first["plant"] == 1
    assert (first["image_id"], first["category_id"], first["iscrowd"]) == (1, 1, 0)
    assert [a["id"] for a in data["annotations"]] == [1, 2, 3, 4, 5]

    assert missing["keypoints"] == [1300.0, 820.0, 2, 0, 0, 0]
    assert missing["num_keypoints"] == 1
    assert missing["keypoint_scores"] == [0.9, 0.0]
    assert missing["score"] == pytest.approx(0.9)
    assert missing["reason"] == "root not found"


def test_coco_plant_without_landmarks_and_box_clipping(tmp_path: Path, make_prediction) -> None:
    plants = [
        Plant(1, tip=None, start=None, reason="no shoot"),
        Plant(2, tip=Keypoint(2.0, 99.0, 0.5), start=Keypoint(1.0, 3.0, 0.7)),
    ]
    data = _write(tmp_path, make_prediction(plants=plants, width=100, height=100))
    empty, edge = data["annotations"]
    assert empty["keypoints"] == [0, 0, 0, 0, 0, 0]
    assert (empty["num_keypoints"], empty["score"], empty["bbox"], empty["area"]) == (
        0,
        0.0,
        [0.0, 0.0, 0.0, 0.0],
        0.0,
    )
    assert edge["bbox"] == [0.0, 0.0, 12.0, 100.0], "clipped to the image"


def test_coco_with_no_images_still_writes_a_valid_file(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    data = _write(tmp_path, filename="empty.json")
    assert (data["images"], data["annotations"]) == ([], [])
    COCO(str(tmp_path / "empty.json"))


def test_coco_refuses_nan_naming_the_image(tmp_path: Path, make_prediction) -> None:
    adapter = create_adapter("coco", out_dir=tmp_path)
    bad = make_prediction(
        "bad.png", plants=[Plant(4, tip=Keypoint(math.nan, 1.0, 0.5), start=None)]
    )
    with pytest.raises(AdapterError, match=r"bad\.png: plant 4 tip holds NaN"):
        adapter.write(bad)


def test_coco_refuses_writes_after_close_and_bad_options(tmp_path: Path, make_prediction) -> None:
    adapter = create_adapter("coco", out_dir=tmp_path)
    adapter.close()
    with pytest.raises(AdapterError, match="is closed"):
        adapter.write(make_prediction())
    with pytest.raises(AdapterError, match="margin must be >= 0"):
        create_adapter("coco", out_dir=tmp_path, margin=-1)
    with pytest.raises(AdapterError, match="must be a plain file name"):
        create_adapter("coco", out_dir=tmp_path, filename="../x.json")


def test_coco_rerunning_images_gives_the_same_file_and_keeps_earlier_images(
    tmp_path: Path, make_prediction
) -> None:
    from pycocotools.coco import COCO

    path = tmp_path / "predictions_coco.json"
    _write(tmp_path, make_prediction("a.png"), make_prediction("b.png", plants=2, missing=()))
    once = path.read_text()
    path.unlink()  # _write checks the file appears on close only
    path.write_text(once)
    with create_adapter("coco", out_dir=tmp_path) as adapter:  # the same plates again
        adapter.write(make_prediction("a.png"))
        adapter.write(make_prediction("b.png", plants=2, missing=()))
    assert path.read_text() == once

    with create_adapter("coco", out_dir=tmp_path) as adapter:  # only b.png, now with 1 plant
        adapter.write(make_prediction("b.png", plants=1, missing=()))
    coco = COCO(str(path))
    assert [coco.loadImgs(i)[0]["file_name"] for i in sorted(coco.getImgIds())] == [
        "a.png",
        "b.png",
    ]
    assert len(coco.getAnnIds(imgIds=[1])) == 5
    assert len(coco.getAnnIds(imgIds=[2])) == 1
    assert sorted(coco.getAnnIds()) == list(range(1, 7))


def test_coco_keeps_an_image_without_plants_from_an_earlier_run(
    tmp_path: Path, make_prediction
) -> None:
    with create_adapter("coco", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction("empty.png", plants=[]))
    with create_adapter("coco", out_dir=tmp_path) as adapter:
        adapter.write(make_prediction("a.png", plants=1, missing=()))
    data = json.loads((tmp_path / "predictions_coco.json").read_text())
    assert [i["file_name"] for i in data["images"]] == ["empty.png", "a.png"]


def test_coco_refuses_to_overwrite_a_foreign_file_unless_told(
    tmp_path: Path, make_prediction
) -> None:
    path = tmp_path / "predictions_coco.json"
    path.write_text('{"not": "coco"}')
    with pytest.raises(AdapterError, match="not a visionkit COCO keypoints file.*overwrite=True"):
        create_adapter("coco", out_dir=tmp_path)
    assert path.read_text() == '{"not": "coco"}'
    with create_adapter("coco", out_dir=tmp_path, overwrite=True) as adapter:
        adapter.write(make_prediction("a.png", plants=1, missing=()))
    assert [i["file_name"] for i in json.loads(path.read_text())["images"]] == ["a.png"]
