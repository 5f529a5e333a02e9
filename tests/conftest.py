"""Suite-wide fixtures."""

from __future__ import annotations

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
