"""Entry script of the batch-prediction parallel job: ``init()`` once, ``run(mini_batch)`` often.

Azure ML's parallel job (:func:`visionkit.azureml.specs.parallel_job`) starts
this file in each worker process with the step's program arguments
(``--model DIR --out DIR [--calibration NAME] [--tta]``), calls :func:`init`
once, then :func:`run` with lists of plate file paths. Each plate goes
through the visionkit pipeline and its prediction contract files
(``OUT/<stem>.json`` and the mask PNGs) land in the ``predictions`` output,
which Azure ML writes back to Blob Storage. :func:`run` answers one JSON
line per plate (``ok``, plants, tips, image confidence, or the error), which
the job appends to its summary, so a bad plate is reported and the others
go on.

Nothing here is Azure-specific: calling ``init([...])`` and ``run([...])``
locally predicts the same way, which is how it is tested.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run by path (Azure ML): the code snapshot is the project root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

__all__ = ["init", "run", "shutdown"]

logger = logging.getLogger("visionkit.azureml.batch_entry")

_STATE: dict[str, Any] = {}


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="batch_entry", add_help=False)
    parser.add_argument("--model", default=None, help="model folder [default: the default model]")
    parser.add_argument("--out", required=True, help="folder for the predictions")
    parser.add_argument("--calibration", default=None, help="calibration file or preset")
    parser.add_argument("--tta", action="store_true", help="test-time augmentation")
    known, _ = parser.parse_known_args(list(argv))  # Azure ML adds arguments of its own
    return known


def init(argv: Sequence[str] | None = None) -> None:
    """Load the model and open the JSON adapter on ``--out`` (``argv`` default: ``sys.argv``).

    Raises:
        ModelError: the model folder cannot be loaded.
    """
    from visionkit.pipeline import Predictor, make_adapters
    from visionkit.plugins import default_plugin_manager

    args = _arguments(sys.argv[1:] if argv is None else argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pm = default_plugin_manager()
    predictor = Predictor(args.model, calibration=args.calibration, pm=pm, tta=args.tta)
    every, made = make_adapters(["json"], out, pm)
    _STATE.update(predictor=predictor, adapters=every, made=made, out=out)
    info = predictor.model_info
    logger.info("batch predict with %s v%s into %s", info.name, info.version, out)


def _row(path: str, prediction: Any) -> dict[str, Any]:
    plants = prediction.plants
    return {
        "image": Path(path).name,
        "ok": True,
        "plants": len(plants),
        "tips": sum(p.tip is not None for p in plants),
        "confidence": round(float(prediction.confidence.get("image", 0.0)), 3),
        "json": f"{Path(path).stem}.json",
    }


def run(mini_batch: Sequence[str]) -> list[str]:
    """Predict every plate file in ``mini_batch``; one JSON line per plate.

    A plate that fails (not an image, unreadable) gives ``{"ok": false,
    "error": ...}`` and the rest of the mini-batch goes on.

    Raises:
        RuntimeError: :func:`init` was not called.
    """
    from visionkit.exceptions import VisionkitError
    from visionkit.pipeline import deliver

    if "predictor" not in _STATE:
        raise RuntimeError("call init() before run(): the model is not loaded")
    rows: list[str] = []
    for path in mini_batch:
        try:
            prediction = _STATE["predictor"].predict(str(path))
            failure = deliver(_STATE["adapters"], prediction)
            if failure is not None:
                raise failure
            row = _row(str(path), prediction)
        except VisionkitError as exc:
            logger.warning("%s: %s", path, exc)
            row = {"image": Path(str(path)).name, "ok": False, "error": str(exc)}
        rows.append(json.dumps(row))
    logger.info("mini-batch of %d plates: %d predicted", len(rows),
                sum('"ok": true' in r for r in rows))  # fmt: skip
    return rows


def shutdown() -> None:
    """Close the adapters (Azure ML calls this when a worker ends)."""
    for adapter in _STATE.get("made", []):
        adapter.close()
    _STATE.clear()
