"""What every built-in adapter shares: registration, options, folders, atomic writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from visionkit.adapters import write_text_atomic
from visionkit.adapters.base import Adapter
from visionkit.exceptions import AdapterError
from visionkit.plugins import adapter_specs, create_adapter, get_plugin_manager


def test_builtin_adapters_are_registered_with_descriptions() -> None:
    specs = adapter_specs(get_plugin_manager(autoload=False))
    for name in ("json", "csv", "coco", "webhook"):
        assert specs[name].description, name


@pytest.mark.parametrize("name", ["json", "csv", "coco"])
def test_file_adapters_satisfy_the_adapter_protocol(tmp_path: Path, name: str) -> None:
    adapter = create_adapter(name, out_dir=tmp_path)
    assert isinstance(adapter, Adapter)
    assert adapter.name == name
    adapter.close()
    adapter.close()


@pytest.mark.parametrize(
    ("name", "typo", "valid"),
    [
        ("json", "indnet", "indent, masks"),
        ("csv", "fielname", "filename, overwrite"),
        ("coco", "margn", "filename, margin"),
        ("webhook", "retry", "backoff, headers, retries"),
    ],
)
def test_a_misspelt_option_names_the_valid_ones(
    tmp_path: Path, name: str, typo: str, valid: str
) -> None:
    with pytest.raises(AdapterError, match=f"unknown option '{typo}' for adapter '{name}'") as info:
        create_adapter(name, out_dir=tmp_path, **{typo: 1})
    assert valid in str(info.value)


@pytest.mark.parametrize("name", ["json", "csv", "coco"])
def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path, name: str) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    with pytest.raises(AdapterError, match=f"output path {re.escape(str(blocker))} is a file"):
        create_adapter(name, out_dir=blocker)


def test_an_output_folder_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(AdapterError, match="cannot create output folder"):
        create_adapter("json", out_dir=tmp_path / "file" / "sub")


def test_the_output_folder_is_created(tmp_path: Path) -> None:
    create_adapter("csv", out_dir=tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text('{"old": true}\n')
    with pytest.raises(AdapterError, match=f"cannot write {re.escape(str(target))}"):
        # A lone surrogate cannot be encoded: the write fails half way.
        write_text_atomic(target, '{"new": "' + "x" * 10_000 + '\udc80"}')
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
