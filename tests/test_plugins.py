"""The plugin manager: loading, tracing, duplicate names, unknown names."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from pathlib import Path

import pluggy
import pytest

import visionkit
from visionkit import hookimpl, plugins
from visionkit.adapters.base import BaseAdapter
from visionkit.exceptions import PluginError, SourceNotFoundError, UnknownNameError
from visionkit.specs import AdapterSpec, ArchitectureSpec, SourceSpec


class _EchoAdapter(BaseAdapter):
    name = "echo"

    def __init__(self, out_dir: Path | None = None, **options: object) -> None:
        self.out_dir = out_dir
        self.options = options
        self.seen: list[str] = []

    def write(self, prediction: visionkit.Prediction) -> None:
        self.seen.append(prediction.image)


class _EchoPlugin:
    @hookimpl
    def visionkit_register_adapters(self) -> list[AdapterSpec]:
        return [AdapterSpec("echo", _EchoAdapter, "remembers image names")]


class _OtherEchoPlugin:
    @hookimpl
    def visionkit_register_adapters(self) -> list[AdapterSpec]:
        return [AdapterSpec("echo", _EchoAdapter, "a clash")]


def test_hookimpl_is_reexported_from_the_package() -> None:
    assert visionkit.hookimpl is plugins.hookspecs.hookimpl


def test_builtins_register_sources_adapters_and_architectures() -> None:
    pm = plugins.get_plugin_manager(autoload=False)
    assert {"json", "csv", "coco", "webhook"} <= set(plugins.adapter_specs(pm))
    assert {"file", "folder", "glob", "hades", "opencv", "url"} <= set(plugins.source_specs(pm))
    assert {"unet", "unet-small", "fpn"} <= set(plugins.architecture_specs(pm))


def test_a_plugin_object_adds_an_adapter_that_can_be_created() -> None:
    pm = plugins.get_plugin_manager([_EchoPlugin()], autoload=False)
    adapter = plugins.create_adapter("echo", pm, out_dir=Path("x"), flag=True)
    assert isinstance(adapter, _EchoAdapter)
    assert adapter.options == {"flag": True}


def test_two_plugins_with_one_name_fail_naming_both() -> None:
    first, second = _EchoPlugin(), _OtherEchoPlugin()
    pm = plugins.get_plugin_manager([first, second], autoload=False)
    with pytest.raises(PluginError, match="registered twice") as info:
        plugins.adapter_specs(pm)
    message = str(info.value)
    assert pm.get_name(first) in message
    assert pm.get_name(second) in message


def test_unknown_name_lists_the_valid_ones() -> None:
    pm = plugins.get_plugin_manager(autoload=False)
    with pytest.raises(UnknownNameError) as info:
        plugins.get_adapter_spec("jsn", pm)
    assert "valid adapters are" in str(info.value)
    assert "json" in info.value.valid
    with pytest.raises(UnknownNameError, match="unet-small"):
        plugins.get_architecture_spec("unnet", pm)
    with pytest.raises(UnknownNameError, match="folder"):
        plugins.get_source_spec("camera", pm)


def test_misspelt_hook_fails_at_startup() -> None:
    class Misspelt:
        @hookimpl
        def visionkit_register_adaptors(self) -> list[AdapterSpec]:
            return []

    with pytest.raises(PluginError, match="misspelt"):
        plugins.get_plugin_manager([Misspelt()], autoload=False)


def test_plugin_that_raises_is_named_in_the_error() -> None:
    class Broken:
        @hookimpl
        def visionkit_register_sources(self) -> list[SourceSpec]:
            raise RuntimeError("boom")

    pm = plugins.get_plugin_manager([Broken()], autoload=False)
    with pytest.raises(PluginError, match="boom"):
        plugins.source_specs(pm)


def test_plugin_file_and_env_variable_are_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin_file = tmp_path / "my_arch.py"
    plugin_file.write_text(
        "from visionkit import hookimpl\n"
        "from visionkit.specs import ArchitectureSpec\n"
        "@hookimpl\n"
        "def visionkit_register_architectures():\n"
        "    return [ArchitectureSpec('tiny-test', lambda **kw: None, 'a test net')]\n"
    )
    pm = plugins.get_plugin_manager([str(plugin_file)], autoload=False)
    assert "tiny-test" in plugins.architecture_specs(pm)

    monkeypatch.setenv(plugins.ENV_PLUGINS, str(plugin_file))
    pm = plugins.get_plugin_manager(autoload=False)
    assert "tiny-test" in plugins.architecture_specs(pm)

    # named again (as the --plugin option would), even spelt another way: registered once
    monkeypatch.chdir(tmp_path)
    pm = plugins.get_plugin_manager([str(plugin_file), "./my_arch.py"], autoload=False)
    assert "tiny-test" in plugins.architecture_specs(pm)
    extra = [row for row in plugins.list_plugins(pm) if not row["builtin"]]
    assert [(row["name"], row["version"]) for row in extra] == [(str(plugin_file), None)]


def test_bad_plugin_references_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="does not exist"):
        plugins.get_plugin_manager([str(tmp_path / "absent.py")], autoload=False)
    broken = tmp_path / "broken.py"
    broken.write_text("raise ImportError('needs a missing lib')\n")
    with pytest.raises(PluginError, match="failed to import"):
        plugins.get_plugin_manager([str(broken)], autoload=False)
    with pytest.raises(PluginError, match="cannot be imported"):
        plugins.get_plugin_manager(["no_such_visionkit_plugin_module"], autoload=False)


def test_trace_variable_logs_hook_calls(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(plugins.ENV_TRACE, "1")
    pm = plugins.get_plugin_manager(autoload=False)
    with caplog.at_level(logging.DEBUG, logger="visionkit.hooks"):
        plugins.adapter_specs(pm)
        pm.hook.visionkit_open_source(uri="definitely-not-a-thing://x", options={})
    text = caplog.text
    assert "visionkit_register_adapters from visionkit.adapters.json_adapter" in text
    # the register hooks go through pluggy, so its own trace sees the call and its result
    assert "finish visionkit_register_adapters -->" in text
    assert "visionkit_open_source" in text


def test_autoload_can_be_turned_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []

    def fake_load(self: object, group: str, name: str | None = None) -> int:
        loaded.append(group)
        return 0

    monkeypatch.setattr("pluggy.PluginManager.load_setuptools_entrypoints", fake_load)
    monkeypatch.setenv(plugins.ENV_DISABLE_AUTOLOAD, "1")
    plugins.get_plugin_manager()
    assert loaded == []
    monkeypatch.setenv(plugins.ENV_DISABLE_AUTOLOAD, "0")
    plugins.get_plugin_manager()
    assert loaded == ["visionkit"]


def test_open_source_without_a_taker_lists_the_sources() -> None:
    pm = plugins.get_plugin_manager(autoload=False)
    with pytest.raises(SourceNotFoundError, match="no source can open") as info:
        plugins.open_source("ftp://nowhere/plate.png", pm)
    assert "folder" in str(info.value)


def test_a_plugin_can_claim_a_uri_before_the_builtins(tmp_path: Path) -> None:
    image = tmp_path / "plate.png"
    image.write_bytes(b"not really read")
    claimed: list[str] = []

    class Claimer:
        @hookimpl
        def visionkit_open_source(self, uri: str, options: dict[str, object]) -> object:
            claimed.append(uri)
            return "claimed"

    pm = plugins.get_plugin_manager([Claimer()], autoload=False)
    assert plugins.open_source(str(image), pm) == "claimed"
    assert claimed == [str(image)]


def test_list_plugins_marks_builtins_and_reports_hooks() -> None:
    pm = plugins.get_plugin_manager([_EchoPlugin()], autoload=False)
    rows = {row["name"]: row for row in plugins.list_plugins(pm)}
    json_row = rows["visionkit.adapters.json_adapter"]
    assert json_row["builtin"] is True
    assert json_row["version"] == visionkit.__version__
    assert "visionkit_register_adapters" in json_row["hooks"]
    extra = [row for row in rows.values() if not row["builtin"]]
    assert len(extra) == 1
    assert extra[0]["hooks"] == ["visionkit_register_adapters"]


def test_architecture_spec_defaults_are_copies() -> None:
    pm = plugins.get_plugin_manager(autoload=False)
    spec: ArchitectureSpec = plugins.get_architecture_spec("unet-small", pm)
    spec.defaults["encoder_name"] = "changed"
    again = plugins.get_architecture_spec("unet-small", pm)
    assert again.defaults["encoder_name"] == "mobilenet_v2"


@pytest.fixture
def fresh_default() -> Iterator[None]:
    """A default plugin manager built for this test alone."""
    plugins.default_plugin_manager.cache_clear()
    yield
    plugins.default_plugin_manager.cache_clear()


@pytest.mark.usefixtures("fresh_default")
def test_calls_without_a_manager_share_one_default_manager() -> None:
    default = plugins.default_plugin_manager()
    assert plugins.default_plugin_manager() is default
    default.register(_EchoPlugin())
    # every library call given no manager sees what is registered on the default one
    assert "echo" in plugins.adapter_specs()
    assert isinstance(plugins.create_adapter("echo", out_dir=Path("x")), _EchoAdapter)
    plugins.default_plugin_manager.cache_clear()
    assert "echo" not in plugins.adapter_specs()


class _HideWebhook:
    """A hook wrapper: sees every plugin's adapters and hides one."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl(hookwrapper=True)
    def visionkit_register_adapters(
        self,
    ) -> Generator[None, pluggy.Result[list[list[AdapterSpec]]], None]:
        self.calls += 1
        outcome = yield
        kept = [[s for s in specs if s.name != "webhook"] for specs in outcome.get_result()]
        outcome.force_result(kept)


def test_a_hook_wrapper_sees_and_changes_the_registered_names() -> None:
    wrapper = _HideWebhook()
    pm = plugins.get_plugin_manager([wrapper, _EchoPlugin()], autoload=False)
    names = set(plugins.adapter_specs(pm))
    assert {"json", "csv", "echo"} <= names
    assert "webhook" not in names
    assert wrapper.calls == 1
