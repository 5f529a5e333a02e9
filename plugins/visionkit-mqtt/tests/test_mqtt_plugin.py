"""The plugin as visionkit sees it: listed once installed, light to load, never imported by core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import visionkit
from visionkit.cli import main
from visionkit.plugins import adapter_specs, get_plugin_manager


def test_visionkit_lists_the_plugin_and_its_adapter() -> None:
    runner = CliRunner()
    plugins = runner.invoke(main, ["plugins"])
    assert plugins.exit_code == 0, plugins.output
    assert "visionkit-mqtt" in plugins.output
    adapters = runner.invoke(main, ["adapters"])
    assert adapters.exit_code == 0, adapters.output
    assert "mqtt" in [line.split()[0] for line in adapters.output.splitlines() if line.strip()]
    assert "mqtt" in adapter_specs(get_plugin_manager())


def test_listing_plugins_does_not_import_paho() -> None:
    code = (
        "import sys, visionkit_mqtt.plugin; print(any(m.startswith('paho') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_core_library_never_imports_the_plugin_or_paho() -> None:
    core = Path(visionkit.__file__).parent
    offenders = [
        str(path.relative_to(core))
        for path in core.rglob("*.py")
        if any(word in path.read_text(encoding="utf-8") for word in ("visionkit_mqtt", "paho"))
    ]
    assert offenders == []
