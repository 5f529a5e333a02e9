"""Fixtures of the data tests; the helpers they hand out live in :mod:`tests.helpers.folders`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.folders import PlateWriter, write_plate

REAL_CROP = Path(__file__).resolve().parents[3] / "shared" / "real" / "hades_dish_crop.png"


@pytest.fixture
def plate_writer() -> PlateWriter:
    """The :func:`write_plate` helper, for tests that build their own folders."""
    return write_plate


@pytest.fixture
def plate_folder(tmp_path: Path) -> Path:
    """A clean folder of three labelled plates (one with landmarks and PNG masks)."""
    folder = tmp_path / "plates"
    folder.mkdir()
    write_plate(folder, "plate_a", seed=1)
    write_plate(
        folder,
        "plate_b",
        seed=2,
        mask_suffix=".png",
        mask_value=255,
        classes=("root", "shoot", "seed", "occluded_root"),
    )
    write_plate(folder, "plate_c", seed=3, landmarks={"dish": {"bbox": [5, 5, 75, 55]}})
    return folder


@pytest.fixture
def real_crop() -> Path:
    """The real Hades dish crop, or a skip when this checkout has none beside it."""
    if not REAL_CROP.exists():
        pytest.skip(f"the real Hades crop is not at {REAL_CROP}")
    return REAL_CROP
