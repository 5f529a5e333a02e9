"""Suite-wide fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _visionkit_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep ONNX exports and other caches in a temporary folder, never in the user's home."""
    folder = tmp_path_factory.mktemp("vk-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISIONKIT_CACHE", str(folder))
        yield folder


_PLUGIN_ENV = ("VISIONKIT_PLUGINS", "VISIONKIT_DISABLE_PLUGIN_AUTOLOAD")


def _plugin_env() -> tuple[str | None, ...]:
    return tuple(os.environ.get(name) for name in _PLUGIN_ENV)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Note the plugin environment before the test's fixtures change it."""
    item.stash[_ENV_KEY] = _plugin_env()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Drop the cached default plugin manager if the test ran with other plugin settings.

    :func:`visionkit.plugins.default_plugin_manager` reads the environment
    once per process; checked before the fixtures restore the environment, so
    a manager built under a test's ``VISIONKIT_PLUGINS`` never reaches the next.
    """
    if item.stash.get(_ENV_KEY, None) != _plugin_env():
        from visionkit.plugins import default_plugin_manager

        default_plugin_manager.cache_clear()


_ENV_KEY = pytest.StashKey[tuple[str | None, ...]]()
