"""`visionkit version|plugins|sources|adapters|architectures` and a fast --help."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from click.testing import CliRunner

import visionkit
from visionkit.cli import main


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == visionkit.__version__


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("plugins", "sources", "adapters", "architectures", "synth", "data"):
        assert name in result.output


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from visionkit.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('torch', 'cv2', 'mlflow', 'django', 'requests', 'scipy') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_plugins_lists_builtins_with_their_hooks() -> None:
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    assert f"visionkit.sources.files {visionkit.__version__} [built-in]" in result.output
    assert "hooks: visionkit_open_source, visionkit_register_sources" in result.output
    rows = json.loads(CliRunner().invoke(main, ["plugins", "--json"]).output)
    assert any(r["name"] == "visionkit.adapters.webhook" and r["builtin"] for r in rows)


def test_listings_name_the_builtins() -> None:
    runner = CliRunner()
    sources = runner.invoke(main, ["sources"]).output
    adapters = runner.invoke(main, ["adapters"]).output
    archs = json.loads(runner.invoke(main, ["architectures", "--json"]).output)
    assert "folder" in sources
    assert "hades" in sources
    assert "coco" in adapters
    assert "webhook" in adapters
    assert "unet-small" in archs


def test_plugin_option_adds_an_adapter_to_the_listing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    plugin = tmp_path / "shout.py"
    plugin.write_text(
        "from visionkit import hookimpl\n"
        "from visionkit.specs import AdapterSpec\n"
        "@hookimpl\n"
        "def visionkit_register_adapters():\n"
        "    return [AdapterSpec('shout', lambda **kw: None, 'prints loudly')]\n"
    )
    result = CliRunner().invoke(main, ["--plugin", str(plugin), "adapters"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^shout +prints loudly$", result.output, re.MULTILINE)


def test_visionkit_errors_become_one_line_and_exit_code_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["--plugin", str(tmp_path / "absent.py"), "plugins"])
    assert result.exit_code == 1
    assert "Error: plugin file" in result.output
    assert "does not exist" in result.output
