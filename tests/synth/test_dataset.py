"""generate_dataset: many plates, the same bytes whatever the number of workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionkit.synth import SynthConfig, generate_dataset


@pytest.fixture(scope="module")
def tiny() -> SynthConfig:
    return SynthConfig().scaled(0.15)


def test_workers_do_not_change_the_data_set(tiny: SynthConfig, tmp_path: Path) -> None:
    one = generate_dataset(tmp_path / "one", 3, 9, config=tiny, progress=False)
    two = generate_dataset(tmp_path / "two", 3, 9, workers=2, config=tiny, progress=False)
    assert [f.name for f in one] == [f.name for f in two]
    assert len(one) == 3 * 6
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_crop_and_zero_plates(tiny: SynthConfig, tmp_path: Path) -> None:
    assert generate_dataset(tmp_path / "none", 0, 1, config=tiny, progress=False) == []
    files = generate_dataset(tmp_path / "crop", 1, 1, config=tiny, crop=True, progress=False)
    assert files[0].suffix == ".png"


@pytest.mark.parametrize(("n", "workers", "message"), [(-1, 1, "n must"), (1, 0, "workers")])
def test_bad_arguments_are_refused(n: int, workers: int, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        generate_dataset(tmp_path, n, 1, workers=workers, progress=False)
