"""The ONNX export cache: what it lists, what pruning removes and keeps, and ``visionkit cache``."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from visionkit.cli import main
from visionkit.inference.cache import (
    OPSET,
    PARTIAL_AGE_S,
    CacheEntry,
    cache_dir,
    cache_file_name,
    entries,
    prune,
)
from visionkit.inference.runtime import make_runtime, onnx_path
from visionkit.modelfolder import load_model

KEY = "ab" * 16
OTHER = "cd" * 16
DAY = 86400.0


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("VISIONKIT_CACHE", str(root))
    folder = cache_dir()
    folder.mkdir(parents=True)
    return folder


def _file(folder: Path, name: str, *, age_s: float = 0.0, size: int = 10) -> Path:
    path = folder / name
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def _names(found: Sequence[CacheEntry]) -> set[str]:
    return {entry.path.name for entry in found}


def _kinds(folder: Path) -> dict[str, str]:
    return {entry.path.name: entry.kind for entry in entries(folder)}


def test_the_cache_names_each_file_it_wrote_and_ignores_the_rest(cache: Path) -> None:
    _file(cache, cache_file_name(KEY))
    _file(cache, cache_file_name(KEY, int8=True))
    _file(cache, f"{OTHER}-opset{OPSET}-int8.onnx")  # an earlier release's dynamic int8
    _file(cache, f"{OTHER}-opset{OPSET - 1}.onnx")  # another opset
    _file(cache, f".{cache_file_name(OTHER)}.4242.part")
    _file(cache, f".{cache_file_name(OTHER, int8=True)}.4242.pre.onnx")
    _file(cache, "notes.txt")
    (cache / f"{KEY}-opset{OPSET}.onnx.d").mkdir()
    assert _kinds(cache) == {
        f"{KEY}-opset{OPSET}.onnx": "onnx",
        f"{KEY}-opset{OPSET}-int8-qdq.onnx": "onnx-int8",
        f"{OTHER}-opset{OPSET}-int8.onnx": "stale",
        f"{OTHER}-opset{OPSET - 1}.onnx": "stale",
        f".{OTHER}-opset{OPSET}.onnx.4242.part": "partial",
        f".{OTHER}-opset{OPSET}-int8-qdq.onnx.4242.pre.onnx": "partial",
    }
    assert {entry.weights for entry in entries(cache) if entry.kind != "partial"} == {KEY, OTHER}


def test_entries_come_least_recently_used_first(cache: Path) -> None:
    _file(cache, cache_file_name(KEY), age_s=10)
    _file(cache, cache_file_name(OTHER), age_s=5 * DAY)
    assert [entry.weights for entry in entries(cache)] == [OTHER, KEY]


def test_a_missing_cache_lists_nothing_and_prunes_nothing(tmp_path: Path) -> None:
    assert entries(tmp_path / "none") == []
    assert prune(tmp_path / "none", everything=True) == []


def test_pruning_removes_stale_formats_and_old_partial_writes_only(cache: Path) -> None:
    keep = {
        _file(cache, cache_file_name(KEY), age_s=400 * DAY).name,  # old but current: kept
        _file(cache, cache_file_name(KEY, int8=True)).name,
        _file(cache, f".{cache_file_name(OTHER)}.7.part", age_s=60).name,  # a write in progress
        _file(cache, "notes.txt", age_s=400 * DAY).name,
    }
    gone = {
        _file(cache, f"{OTHER}-opset{OPSET}-int8.onnx").name,
        _file(cache, f".{cache_file_name(OTHER)}.8.part", age_s=PARTIAL_AGE_S + 60).name,
    }
    assert _names(prune(cache)) == gone
    assert {path.name for path in cache.iterdir()} == keep


def test_unused_days_removes_exports_not_run_for_that_long(cache: Path) -> None:
    old = _file(cache, cache_file_name(OTHER), age_s=31 * DAY)
    recent = _file(cache, cache_file_name(KEY), age_s=29 * DAY)
    assert _names(prune(cache, unused_days=30)) == {old.name}
    assert recent.exists()


def test_everything_spares_only_a_write_in_progress(cache: Path) -> None:
    writing = _file(cache, f".{cache_file_name(OTHER)}.9.part")
    _file(cache, cache_file_name(KEY))
    _file(cache, cache_file_name(KEY, int8=True))
    assert len(prune(cache, everything=True)) == 2
    assert [path.name for path in cache.iterdir()] == [writing.name]


def test_a_dry_run_removes_nothing(cache: Path) -> None:
    stale = _file(cache, f"{OTHER}-opset{OPSET}-int8.onnx")
    assert _names(prune(cache, everything=True, dry_run=True)) == {stale.name}
    assert stale.exists()


def test_unused_days_must_not_be_negative(cache: Path) -> None:
    with pytest.raises(ValueError, match="unused_days"):
        prune(cache, unused_days=-1)


def test_running_a_cached_export_marks_it_used(tiny_unet_folder: Path, cache: Path) -> None:
    model = load_model(tiny_unet_folder)
    make_runtime(model, "onnx")  # exports into the cache
    path = onnx_path(model)
    long_ago = time.time() - 90 * DAY
    os.utime(path, (long_ago, long_ago))
    assert _names(prune(cache, unused_days=30, dry_run=True)) == {path.name}

    make_runtime(load_model(tiny_unet_folder), "onnx")  # a later process runs it again
    assert path.stat().st_mtime > time.time() - 60
    assert prune(cache, unused_days=30) == []


def test_the_cache_command_lists_and_prunes(cache: Path) -> None:
    current = _file(cache, cache_file_name(KEY), size=3 * 2**20)
    stale = _file(cache, f"{OTHER}-opset{OPSET}-int8.onnx", size=2**20)
    runner = CliRunner()

    listed = runner.invoke(main, ["cache", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"{cache}: 2 file(s), 4.0 MiB" in listed.output
    assert "stale" in listed.output
    assert current.name in listed.output

    as_json = runner.invoke(main, ["cache", "list", "--json"])
    assert '"kind": "onnx"' in as_json.output
    assert f'"weights": "{KEY}"' in as_json.output

    dry = runner.invoke(main, ["cache", "prune", "--dry-run"])
    assert dry.exit_code == 0
    assert f"would remove {stale.name} (stale, 1.0 MiB)" in dry.output
    assert stale.exists()

    done = runner.invoke(main, ["cache", "prune"])
    assert done.exit_code == 0, done.output
    assert "removed 1 file(s), 1.0 MiB" in done.output
    assert not stale.exists()
    assert current.exists()

    everything = runner.invoke(main, ["cache", "prune", "--all"])
    assert everything.exit_code == 0
    assert not current.exists()

    negative = runner.invoke(main, ["cache", "prune", "--unused-days", "-1"])
    assert negative.exit_code == 2  # a usage error before anything is removed
