"""write_plate: the Hades file layout and ground truth that reads back the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from visionkit.imageio import read_image, read_mask
from visionkit.synth import MASK_NAMES, SynthPlate, write_plate


def test_writes_image_masks_and_landmarks(half_plate: SynthPlate, tmp_path: Path) -> None:
    files = write_plate(half_plate, tmp_path)
    stem = half_plate.stem
    assert [f.name for f in files] == [
        half_plate.name,
        *(f"{stem}_{m}_mask.tif" for m in MASK_NAMES),
        f"{stem}.landmarks.json",
    ]
    image, meta = read_image(files[0])
    assert meta["bit_depth"] == 8
    assert np.array_equal(image, half_plate.image)
    for name, path in zip(MASK_NAMES, files[1:5], strict=True):
        assert np.array_equal(read_mask(path), half_plate.masks[name])
    landmarks = json.loads(files[-1].read_text(encoding="utf-8"))
    assert landmarks["image"] == half_plate.name
    assert (landmarks["width"], landmarks["height"]) == (image.shape[1], image.shape[0])
    assert landmarks["generator"].startswith("visionkit.synth ")
    assert landmarks["seed"] == 11
    assert len(landmarks["plants"]) == 5
    assert not list(tmp_path.glob(".*.part"))


def test_crop_writes_the_dish_only_with_shifted_coordinates(
    half_plate: SynthPlate, tmp_path: Path
) -> None:
    files = write_plate(half_plate, tmp_path, crop=True)
    image, _ = read_image(files[0])
    x0, y0, x1, y1 = half_plate.dish_bbox
    assert image.shape == (y1 - y0, x1 - x0)
    root = read_mask(files[1])
    assert root.shape == image.shape
    landmarks = json.loads(files[-1].read_text(encoding="utf-8"))
    assert landmarks["dish"]["bbox"] == [0, 0, x1 - x0, y1 - y0]
    assert landmarks["crop"] == {"x": x0, "y": y0}
    for plant in landmarks["plants"]:
        if plant["present"]:
            x, y = round(plant["start"]["x"]), round(plant["start"]["y"])
            assert root[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3].any()
