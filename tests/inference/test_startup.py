"""A cached ONNX export predicts without importing torch: ``visionkit predict`` starts fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from visionkit.inference.runtime import make_runtime
from visionkit.modelfolder import load_model

#: Predicts one frame with the ONNX backend and prints which heavy modules were imported.
_CHILD = """
import json, sys
import numpy as np
from visionkit.pipeline import Predictor
backend = sys.argv[2] if len(sys.argv) > 2 else None
frame = np.full((320, 320), 170, np.uint8)
prediction = Predictor(sys.argv[1] or None, backend=backend).predict(frame)
assert set(prediction.mask_arrays) == {"root", "shoot", "seed"}
heavy = ("torch", "segmentation_models_pytorch", "timm", "torchvision", "mlflow", "matplotlib")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def _heavy_modules_after_one_frame(
    model: Path | None, cache: Path, backend: str | None = "onnx"
) -> list[str]:
    env = {**os.environ, "VISIONKIT_CACHE": str(cache)}
    args = [str(model or ""), *([backend] if backend else [])]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_cached_export_predicts_without_importing_torch(
    tiny_unet_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = tmp_path / "warm"
    monkeypatch.setenv("VISIONKIT_CACHE", str(warm))
    make_runtime(load_model(tiny_unet_folder), "onnx")  # exports into the warm cache
    assert _heavy_modules_after_one_frame(tiny_unet_folder, warm) == []
    # With nothing cached the network must be built and exported: torch is imported.
    cold = _heavy_modules_after_one_frame(tiny_unet_folder, tmp_path / "cold")
    assert "torch" in cold
    assert "segmentation_models_pytorch" in cold


def test_the_default_model_predicts_on_a_fresh_machine_without_torch(tmp_path: Path) -> None:
    # Its 8-bit export ships in its folder: nothing to export, quantise or build.
    cold = tmp_path / "cold"
    assert _heavy_modules_after_one_frame(None, cold, backend=None) == []
    assert not cold.exists()
