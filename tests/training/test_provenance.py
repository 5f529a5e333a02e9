"""Provenance: the code version and environment recorded with every model."""

from __future__ import annotations

import pytest

from visionkit import __version__
from visionkit.training.provenance import code_version, environment


def test_code_version_names_a_commit_or_the_package() -> None:
    version = code_version()
    assert version.startswith("git:") or version == f"visionkit=={__version__}"
    if version.startswith("git:"):
        assert len(version.split(":")[1].removesuffix("+dirty")) == 40


def test_without_git_the_package_version_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")  # no git executable to be found
    assert code_version() == f"visionkit=={__version__}"


def test_environment_tags() -> None:
    tags = environment("cpu")
    assert tags["env.device"] == "cpu"
    assert tags["env.torch"] != "not installed"
    assert tags["env.compute"] == "local-cpu"
    assert set(tags) == {
        "env.compute",
        "env.nodes",
        "env.python",
        "env.torch",
        "env.smp",
        "env.visionkit",
        "env.platform",
        "env.device",
    }
