"""Third-party plugins reach visionkit the three documented ways, and fail loudly.

(a) an installed package through the ``visionkit`` entry-point group (the
``visionkit-ot2`` package in ``plugins/``); (b) a ``.py`` file named with
``--plugin`` or in ``VISIONKIT_PLUGINS``; (c) two plugins claiming one name
is an error naming both; (d) ``VISIONKIT_DISABLE_PLUGIN_AUTOLOAD=1`` turns the
entry points off.
"""

from __future__ import annotations

import json
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from visionkit.cli import main

#: Start every invocation from a clean plugin environment.
_CLEAN_ENV: dict[str, str | None] = {
    "VISIONKIT_DISABLE_PLUGIN_AUTOLOAD": None,
    "VISIONKIT_PLUGINS": None,
    "VISIONKIT_TRACE_HOOKS": None,
}


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={**_CLEAN_ENV, **(env or {})})


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = _invoke(*args, env=env)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _plugins_json(*args: str, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    rows = json.loads(_ok(*args, "plugins", "--json", env=env))
    return {row["name"]: row for row in rows}


def _adapter_names(*args: str, env: dict[str, str] | None = None) -> set[str]:
    return set(json.loads(_ok(*args, "adapters", "--json", env=env)))


def _write_plugin(folder: Path, stem: str, adapter: str, version: str = "") -> Path:
    """A plugin file registering one adapter that records what it is given."""
    version_line = f"__version__ = {version!r}" if version else ""
    source = f'''
        """A test plugin: the adapter {adapter!r}."""
        from visionkit import hookimpl
        from visionkit.adapters.base import BaseAdapter
        from visionkit.specs import AdapterSpec

        {version_line}


        class Recorder(BaseAdapter):
            name = {adapter!r}

            def __init__(self, out_dir=None, **options):
                self.seen = []

            def write(self, prediction):
                self.seen.append(prediction.image)


        @hookimpl
        def visionkit_register_adapters():
            return [AdapterSpec({adapter!r}, Recorder, "records predictions ({stem})")]
        '''
    path = folder / f"{stem}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def _ot2_version() -> str:
    try:
        return metadata.version("visionkit-ot2")
    except metadata.PackageNotFoundError:
        pytest.skip("visionkit-ot2 is not installed: pip install -e plugins/visionkit-ot2")


# -- (a) an installed package, found through the entry-point group


def test_installed_ot2_package_is_listed_with_its_version_and_hook() -> None:
    version = _ot2_version()
    output = _ok("plugins")
    lines = output.splitlines()
    row = lines.index(f"visionkit-ot2 {version}")
    assert lines[row + 1].strip() == "hooks: visionkit_register_adapters"
    listed = _plugins_json()["visionkit-ot2"]
    assert listed == {
        "name": "visionkit-ot2",
        "version": version,
        "hooks": ["visionkit_register_adapters"],
        "builtin": False,
    }


def test_installed_ot2_package_adds_the_ot2_adapter() -> None:
    _ot2_version()
    output = _ok("adapters")
    assert any(
        line.split()[0] == "ot2" and "Opentrons OT-2" in line for line in output.splitlines()
    )


# -- (b) a plugin file named on the command line or in the environment


def test_plugin_file_given_with_the_plugin_option_is_listed(tmp_path: Path) -> None:
    plugin = _write_plugin(tmp_path, "lab_recorder", "lab-recorder", version="1.2.3")
    assert "lab-recorder" not in _adapter_names()
    assert "lab-recorder" in _adapter_names("--plugin", str(plugin))
    assert "records predictions (lab_recorder)" in _ok("--plugin", str(plugin), "adapters")
    listed = _plugins_json("--plugin", str(plugin))[str(plugin)]
    assert listed["version"] == "1.2.3"
    assert listed["hooks"] == ["visionkit_register_adapters"]
    assert listed["builtin"] is False


def test_plugin_file_named_in_visionkit_plugins_is_listed(tmp_path: Path) -> None:
    first = _write_plugin(tmp_path, "env_one", "env-one")
    second = _write_plugin(tmp_path, "env_two", "env-two")
    env = {"VISIONKIT_PLUGINS": f"{first}, {second}"}
    assert {"env-one", "env-two"} <= _adapter_names(env=env)
    listed = _plugins_json(env=env)
    assert listed[str(first)]["hooks"] == ["visionkit_register_adapters"]
    assert listed[str(second)]["version"] is None


def test_file_plugins_are_listed_by_path_with_a_version_or_a_dash(tmp_path: Path) -> None:
    versioned = _write_plugin(tmp_path, "versioned", "versioned", version="2.0")
    bare = _write_plugin(tmp_path, "bare", "bare")
    lines = _ok("--plugin", str(versioned), "--plugin", str(bare), "plugins").splitlines()
    assert f"{versioned} 2.0" in lines
    assert f"{bare} -" in lines


def test_a_plugin_in_visionkit_plugins_and_the_plugin_option_is_registered_once(
    tmp_path: Path,
) -> None:
    plugin = _write_plugin(tmp_path, "both_ways", "both-ways")
    env = {"VISIONKIT_PLUGINS": str(plugin)}
    output = _ok("--plugin", str(plugin), "adapters", env=env)
    assert [line.split()[0] for line in output.splitlines()].count("both-ways") == 1
    listed = [row for row in _plugins_json("--plugin", str(plugin), env=env) if "both_ways" in row]
    assert listed == [str(plugin)]


def test_plugin_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.py"
    result = _invoke("--plugin", str(missing), "adapters")
    assert result.exit_code != 0
    assert str(missing) in result.output


# -- (c) one name, two plugins


def test_two_plugins_registering_one_adapter_name_fail_naming_both(tmp_path: Path) -> None:
    first = _write_plugin(tmp_path, "clash_a", "twin")
    second = _write_plugin(tmp_path, "clash_b", "twin")
    result = _invoke("--plugin", str(first), "--plugin", str(second), "adapters")
    assert result.exit_code == 1
    assert "'twin' is registered twice" in result.output
    assert str(first) in result.output
    assert str(second) in result.output


def test_a_plugin_cannot_take_a_built_in_adapter_name(tmp_path: Path) -> None:
    plugin = _write_plugin(tmp_path, "json_thief", "json")
    result = _invoke("--plugin", str(plugin), "adapters")
    assert result.exit_code == 1
    assert "visionkit.adapters.json_adapter" in result.output
    assert str(plugin) in result.output


def test_installed_plugin_clashing_with_a_file_plugin_names_the_package(tmp_path: Path) -> None:
    _ot2_version()
    plugin = _write_plugin(tmp_path, "my_ot2", "ot2")
    result = _invoke("--plugin", str(plugin), "adapters")
    assert result.exit_code == 1
    assert "visionkit-ot2" in result.output
    assert str(plugin) in result.output


# -- (d) autoload off


def test_disabling_autoload_hides_the_entry_point_plugin(tmp_path: Path) -> None:
    _ot2_version()
    off = {"VISIONKIT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    assert "visionkit-ot2" in _plugins_json()
    assert "visionkit-ot2" not in _plugins_json(env=off)
    assert "ot2" not in _adapter_names(env=off)
    assert "json" in _adapter_names(env=off)  # built-ins still load
    # explicit plugins still load: autoload covers entry points only
    plugin = _write_plugin(tmp_path, "still_here", "still-here")
    assert "still-here" in _adapter_names("--plugin", str(plugin), env=off)
