"""The documentation site builds with ``mkdocs build --strict``.

Strict mode turns every warning into a failure: a page missing from the nav,
a link to a page or an anchor that does not exist (``mkdocs.yml`` validates
anchors too), an unknown markdown extension.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_docs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for page in ("index", "plugins", "cli", "calibration", "sources", "adapters", "architecture"):
        target = site / "index.html" if page == "index" else site / page / "index.html"
        assert target.is_file(), f"{page} was not built"
    hooks = (site / "plugins" / "index.html").read_text(encoding="utf-8")
    assert 'id="visionkit_open_sourceuri-str-options-dictstr-any-source-none"' in hooks


def _doc(name: str) -> str:
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


def test_every_cli_command_is_documented() -> None:
    import click

    from visionkit.cli import main

    commands = main.list_commands(click.Context(main))
    assert "plugins" in commands
    page = _doc("cli.md")
    missing = sorted(name for name in commands if f"### `visionkit {name}" not in page)
    assert missing == [], f"docs/cli.md has no '### `visionkit <command>...`' section for {missing}"


def test_every_built_in_source_and_adapter_is_documented() -> None:
    from visionkit.plugins import adapter_specs, get_plugin_manager, source_specs

    pm = get_plugin_manager(autoload=False)
    for page, names in (("sources.md", source_specs(pm)), ("adapters.md", adapter_specs(pm))):
        text = _doc(page)
        missing = sorted(name for name in names if f"## `{name}`" not in text)
        assert missing == [], f"docs/{page} has no '## `name`: ...' section for {missing}"
