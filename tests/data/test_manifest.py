"""A manifest pins a data version: same bytes, same version; any change, a new one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.folders import PlateWriter
from visionkit.data.manifest import (
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    build_manifest,
    data_version,
    sha256_file,
)
from visionkit.exceptions import DatasetError


def test_every_file_is_listed_with_size_and_hash(plate_folder: Path) -> None:
    (plate_folder / "notes").mkdir()
    (plate_folder / "notes" / "README.txt").write_text("labelled by hand")
    (plate_folder / ".hidden").write_text("x")
    manifest = build_manifest(plate_folder)
    paths = [f.path for f in manifest.files]
    assert paths == sorted(paths)
    assert "notes/README.txt" in paths
    assert ".hidden" not in paths
    assert "plate_b_occluded_root_mask.png" in paths
    assert "plate_c.landmarks.json" in paths
    assert len(paths) == 3 + 10 + 1 + 1
    entry = next(f for f in manifest.files if f.path == "plate_a.png")
    content = (plate_folder / "plate_a.png").read_bytes()
    assert entry.size == len(content)
    assert entry.sha256 == hashlib.sha256(content).hexdigest()
    assert (manifest.n_images, manifest.n_masks) == (3, 10)
    assert manifest.mask_counts["occluded_root"] == 1
    assert manifest.problems == []


def test_the_same_data_gives_the_same_version_anywhere_and_anytime(
    plate_folder: Path, tmp_path: Path
) -> None:
    first = build_manifest(plate_folder)
    copy = shutil.copytree(plate_folder, tmp_path / "elsewhere")
    second = build_manifest(copy)
    assert second.version == first.version
    assert second.root != first.root
    assert len(first.version) == 64
    first.created_at = "1999-01-01T00:00:00+00:00"
    assert data_version(first.files) == second.version  # time is not hashed
    assert data_version(list(reversed(first.files))) == first.version


@pytest.mark.parametrize("change", ["edit", "add", "remove", "rename"])
def test_any_change_to_the_files_gives_a_new_version(plate_folder: Path, change: str) -> None:
    before = build_manifest(plate_folder).version
    landmarks = plate_folder / "plate_c.landmarks.json"
    if change == "edit":
        landmarks.write_text('{"dish": {"bbox": [5, 5, 75, 56]}}')
    elif change == "add":
        (plate_folder / "extra.txt").write_text("x")
    elif change == "remove":
        landmarks.unlink()
    else:
        landmarks.rename(plate_folder / "plate_a.landmarks.json")
    assert build_manifest(plate_folder).version != before


def test_writing_the_manifest_does_not_change_the_version(plate_folder: Path) -> None:
    manifest = build_manifest(plate_folder)
    written = manifest.write(plate_folder / MANIFEST_NAME)
    assert build_manifest(plate_folder).version == manifest.version
    assert Manifest.read(written) == manifest
    data = json.loads(written.read_text())
    assert data["version"] == manifest.version
    assert set(data) >= {"files", "n_images", "n_masks", "class_shares", "created_at"}
    assert data["created_at"].endswith("+00:00")


def test_other_outputs_inside_the_folder_can_be_excluded(plate_folder: Path) -> None:
    before = build_manifest(plate_folder).version
    (plate_folder / "v2.json").write_text("{}")
    assert build_manifest(plate_folder, exclude=[plate_folder / "v2.json"]).version == before


def test_class_shares_are_foreground_over_labelled_pixels(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    one = plate_writer(tmp_path, "a", seed=1)
    two = plate_writer(tmp_path, "b", seed=2)
    shares = build_manifest(tmp_path).class_shares
    total = 2 * 60 * 80
    for cls in ("root", "shoot", "seed"):
        assert shares[cls] == pytest.approx((one[cls].sum() + two[cls].sum()) / total)
    assert shares["occluded_root"] == 0.0


def test_a_broken_folder_gets_no_manifest_unless_asked(
    tmp_path: Path, plate_writer: PlateWriter
) -> None:
    plate_writer(tmp_path, "a", classes=("root",))
    with pytest.raises(DatasetError) as caught:
        build_manifest(tmp_path)
    assert len(caught.value.problems) == 2
    loose = build_manifest(tmp_path, validate=False)
    assert loose.problems == caught.value.problems
    assert [f.path for f in loose.files] == ["a.png", "a_root_mask.tif"]
    missing = build_manifest(tmp_path / "nope", validate=False)
    assert missing.files == []
    assert "does not exist" in missing.problems[0]


def test_hashing_streams_large_files(tmp_path: Path) -> None:
    blob = np.random.default_rng(0).integers(0, 256, 3 * (1 << 20) + 7, dtype=np.uint8).tobytes()
    (tmp_path / "big.bin").write_bytes(blob)
    assert sha256_file(tmp_path / "big.bin") == hashlib.sha256(blob).hexdigest()


def test_reading_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"files": []}')
    with pytest.raises(ValueError, match="not a visionkit data manifest"):
        Manifest.read(tmp_path / "m.json")
    assert FileEntry("a", 1, "x") == FileEntry(path="a", size=1, sha256="x")
