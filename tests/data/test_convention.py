"""File naming: images, masks of each class, landmarks, and the ambiguous cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionkit.data.convention import landmarks_name, mask_name, parse_mask_name, scan_folder


def test_mask_name_follows_the_hades_convention() -> None:
    assert mask_name("plate_1", "root") == "plate_1_root_mask.tif"
    assert mask_name("plate_1", "occluded_root", ".png") == "plate_1_occluded_root_mask.png"
    assert landmarks_name("plate_1") == "plate_1.landmarks.json"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a_root_mask.tif", ("a", "root")),
        ("a_shoot_mask.PNG", ("a", "shoot")),
        ("a_seed_mask.tiff", ("a", "seed")),
        ("a_occluded_root_mask.tif", ("a", "occluded_root")),
        ("035_43-14-ROOT1 Fish Eye_root_mask.tif", ("035_43-14-ROOT1 Fish Eye", "root")),
        ("a_leaf_mask.tif", ("a_leaf", "")),
        ("a.png", None),
        ("a_root_mask.jpg", None),
        ("_root_mask.tif", ("_root", "")),
    ],
)
def test_parse_mask_name(name: str, expected: tuple[str, str] | None) -> None:
    assert parse_mask_name(name) == expected


def test_an_image_stem_ending_in_occluded_keeps_its_root_mask() -> None:
    assert parse_mask_name("x_occluded_root_mask.tif") == ("x", "occluded_root")
    assert parse_mask_name("x_occluded_root_mask.tif", stems={"x_occluded"}) == (
        "x_occluded",
        "root",
    )


def test_scan_sorts_files_into_images_masks_and_landmarks(tmp_path: Path) -> None:
    for name in [
        "b.png",
        "a.tif",
        "a_root_mask.png",
        "a_shoot_mask.tif",
        "b_root_mask.tif",
        "a.landmarks.json",
        "notes.txt",
        ".a.png.part",
        "c_leaf_mask.png",
        "d_root_mask.tif",
    ]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.png").write_bytes(b"")

    scan = scan_folder(tmp_path, ("root", "shoot"))

    assert list(scan.images) == ["a", "b"]
    assert scan.images["a"].name == "a.tif"
    assert {s: sorted(m) for s, m in scan.masks.items()} == {
        "a": ["root", "shoot"],
        "b": ["root"],
        "d": ["root"],
    }
    assert list(scan.orphan_masks) == ["d"]
    assert scan.n_masks == 4
    assert list(scan.landmarks) == ["a"]
    assert [p.name for p in scan.ignored_masks] == ["c_leaf_mask.png"]
    assert [p.name for p in scan.others] == ["notes.txt"]


def test_scan_ignores_masks_of_classes_not_asked_for(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "a_seed_mask.tif").write_bytes(b"")
    scan = scan_folder(tmp_path, ("root",))
    assert scan.masks == {}
    assert [p.name for p in scan.ignored_masks] == ["a_seed_mask.tif"]
    assert "a_seed_mask" not in scan.images


def test_scan_reports_duplicate_stems_and_masks(tmp_path: Path) -> None:
    for name in ["a.png", "a.tif", "a_root_mask.tif", "a_root_mask.png"]:
        (tmp_path / name).write_bytes(b"")
    scan = scan_folder(tmp_path)
    assert len(scan.duplicates) == 2
    assert any("share the stem 'a'" in d for d in scan.duplicates)
    assert any("both the root mask of 'a'" in d for d in scan.duplicates)


def test_scan_of_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="nowhere"):
        scan_folder(tmp_path / "nowhere")
