"""The local copy of a model version, filled by several worker processes at once.

A batch over many workers starts them together, each copying the version's
folder from the file storage into the shared cache; none may pull the folder
from under another (a shared temporary name did, and a plate failed).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from portal.predictions.loader import local_folder
from visionkit.modelfolder import file_sha256


def _fill_together(version: Any, workers: int) -> tuple[list[Path], list[BaseException]]:
    """``local_folder(version)`` in ``workers`` threads released at the same moment."""
    start = threading.Barrier(workers)
    found: list[Path] = []
    errors: list[BaseException] = []

    def fill() -> None:
        start.wait()
        try:
            found.append(local_folder(version))
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=fill) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found, errors


@pytest.mark.django_db
def test_workers_filling_the_cache_together_all_get_a_whole_copy(
    production_model: Any, settings: Any, tmp_path: Path
) -> None:
    settings.VISIONKIT_MODEL_CACHE = tmp_path / "cache"
    for _ in range(4):
        found, errors = _fill_together(production_model, 4)
        assert errors == []
        assert len(set(found)) == 1
        assert file_sha256(found[0] / "model.safetensors") == production_model.sha256
        assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [found[0].name]
        for path in found[0].iterdir():  # empty it again: the next round races afresh
            path.unlink()
        found[0].rmdir()


@pytest.mark.django_db
def test_a_stale_copy_is_replaced(production_model: Any, settings: Any, tmp_path: Path) -> None:
    settings.VISIONKIT_MODEL_CACHE = tmp_path / "cache"
    cache = local_folder(production_model)
    (cache / "model.safetensors").write_bytes(b"not the weights")
    again = local_folder(production_model)
    assert again == cache
    assert file_sha256(cache / "model.safetensors") == production_model.sha256


@pytest.mark.django_db
def test_the_shipped_8_bit_export_reaches_the_workers_copy(
    production_model: Any, settings: Any, tmp_path: Path
) -> None:
    # The default model was registered from its local folder, export included,
    # so a worker runs the 8-bit file at once instead of quantising it.
    from visionkit.inference.runtime import make_runtime
    from visionkit.modelfolder import load_model

    settings.VISIONKIT_MODEL_CACHE = tmp_path / "cache"
    cache = local_folder(production_model)
    assert sorted(p.name for p in cache.iterdir()) == [
        "MODEL_CARD.md", "config.json", "model-int8.onnx", "model.safetensors",
    ]  # fmt: skip
    runtime = make_runtime(load_model(cache, lazy=True))
    assert runtime.path == cache / "model-int8.onnx"  # type: ignore[attr-defined]
