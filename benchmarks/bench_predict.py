"""Time full Hades frames end to end, measure the speed levers, and compare with a naive baseline.

One synthetic 4202 x 3006 frame is written as PNG, then predicted end to end:
read PNG, dish detection and crop, segmentation, landmarks, contract JSON
(``visionkit.pipeline.Predictor``). The model is the shipped default model
(or ``--model``), and each lever also reports how many of the plate's true
tips were found within 1 mm, so a faster setting that loses accuracy shows.
With ``--random`` (or when no trained model is installed) the model is the
default architecture with random weights, whose multiply-accumulates and time
are the same; the landmark step is then fed the plate's ground-truth masks
resized to the working grid, so its time stays realistic.

Printed: seconds per frame (median of ``--repeat`` runs) for each lever,
the multiply-accumulates (MACs) per frame counted with forward hooks on
every ``Conv2d``, the peak resident memory of a fresh process predicting one
frame with the defaults (``VmHWM``/``ru_maxrss``, which torch's allocator
does not hide from, unlike ``tracemalloc``), and the ratio against a NAIVE
BASELINE timed in the same process: smp U-Net with a resnet34 encoder, eager float32, the
full-resolution frame cut into 256 px tiles run one at a time. Baseline
tiles and default frames are timed alternately so both see the same load
on a shared CPU; a subset of the tiles is timed and extrapolated to all of
them (the output says how many).

Run from the repository root::

    .venv/bin/python benchmarks/bench_predict.py [--repeat 3] [--quick]

``--quick`` times only the chosen default and the baseline.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FRAME_SEED = 5
BASELINE_TILE = 256


@dataclass
class Lever:
    """One configuration of the end-to-end pipeline."""

    label: str
    backend: str = "onnx"
    scale: float = 0.5
    tile: int = 768
    batch: int = 2
    threads: int | None = None
    channels_last: bool = True
    masks: bool = False
    refine: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> Any:
        """The :class:`~visionkit.settings.PredictSettings` this lever predicts with."""
        from visionkit.settings import DEFAULT_REFINE_RADIUS, PredictSettings, SegmentSettings

        segment = SegmentSettings(
            backend=self.backend,
            scale=self.scale,
            tile=self.tile,
            batch=self.batch,
            threads=self.threads,
            refine=DEFAULT_REFINE_RADIUS if self.refine is None else self.refine,
        )
        return PredictSettings(segment=segment, masks=self.masks)


def _rss_mib() -> float:
    """This process's peak resident memory so far, MiB.

    ``VmHWM`` from ``/proc/self/status`` where there is one: ``ru_maxrss``
    survives ``exec`` and would report the parent's peak in a spawned child.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _conv_macs(module: Any, shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of every Conv2d for one input of ``shape``."""
    import torch

    total = 0

    def hook(layer: Any, _inputs: Any, output: Any) -> None:
        nonlocal total
        kh, kw = layer.kernel_size
        per_output = (layer.in_channels // layer.groups) * kh * kw
        total += int(output.numel()) * per_output

    handles = [
        m.register_forward_hook(hook) for m in module.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    try:
        with torch.inference_mode():
            module(torch.zeros(shape))
    finally:
        for handle in handles:
            handle.remove()
    return total


def _frame(folder: Path) -> tuple[Path, Any]:
    from visionkit.imageio import write_image
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(FRAME_SEED, SynthConfig())
    path = write_image(folder / f"{plate.stem}.png", plate.image)
    return path, plate


def _model(folder: Path, model_path: Path | None) -> Any:
    import torch

    from visionkit.modelfolder import ModelConfig, build_model, load_model, save_model

    if model_path is not None:
        return load_model(model_path)
    torch.manual_seed(0)
    config = ModelConfig(architecture="unet-small", name="bench-unet-small", version="0")
    save_model(build_model(config), folder / "model", config)
    return load_model(folder / "model")


def _truth_landmarks(plate: Any) -> Callable[..., Any]:
    """A stand-in for ``predict._find_landmarks`` that runs on ground-truth maps."""
    import cv2

    from visionkit.landmarks import find_landmarks

    def find(seg: Any, *, expected_plants: int, threshold: float) -> Any:
        x0, y0, x1, y1 = seg.bbox
        maps = {}
        for name in ("root", "shoot", "seed", "occluded_root"):
            crop = plate.masks[name][y0:y1, x0:x1].astype(np.float32)
            maps[name] = cv2.resize(crop, seg.working_size, interpolation=cv2.INTER_AREA)
        return find_landmarks(
            maps["root"],
            maps["shoot"],
            maps["seed"],
            expected_plants=expected_plants,
            px_per_mm=seg.working_px_per_mm,
            threshold=threshold,
            occluded_prob=maps["occluded_root"],
        )

    return find


def _tips_within_1mm(prediction: Any, plate: Any) -> tuple[int, int]:
    """How many of the plate's true tips have a predicted tip within 1 mm."""
    mm_per_px = float(plate.landmarks["dish"]["mm_per_px"])
    found = [(p.tip.x, p.tip.y) for p in prediction.plants if p.tip is not None]
    truth = [p["tip"] for p in plate.landmarks["plants"] if p.get("present")]
    hits = sum(
        1
        for tip in truth
        if found and min(math.dist((tip["x"], tip["y"]), f) for f in found) * mm_per_px <= 1.0
    )
    return hits, len(truth)


def _run_lever(
    model: Any, frame: Path, plate: Any, lever: Lever, repeat: int, out: Path
) -> dict[str, Any]:
    """Median timings of ``repeat`` end-to-end runs (after one warm-up)."""
    from visionkit.adapters.json_adapter import JsonAdapter
    from visionkit.inference.runtime import make_runtime
    from visionkit.pipeline import Predictor

    predictor = Predictor(model, settings=lever.settings())
    build = time.perf_counter()
    predictor._runtime = make_runtime(
        model, lever.backend, threads=lever.threads, channels_last=lever.channels_last
    )
    build_s = time.perf_counter() - build
    adapter = JsonAdapter(out, masks=lever.masks)
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    prediction = None
    for index in range(repeat + 1):
        began = time.perf_counter()
        prediction = predictor.predict(frame)
        adapter.write(prediction)
        elapsed = time.perf_counter() - began
        if index == 0:
            continue  # warm-up: first-call allocations, ORT graph optimisation
        totals.append(elapsed)
        for key, value in prediction.timing_ms.items():
            stages.setdefault(key, []).append(value)
    assert prediction is not None
    hits, truth = _tips_within_1mm(prediction, plate)
    return {
        "tips_within_1mm": f"{hits}/{truth}",
        "label": lever.label,
        "seconds": statistics.median(totals),
        "spread": (min(totals), max(totals)),
        "stages_ms": {k: statistics.median(v) for k, v in stages.items()},
        "build_s": build_s,
        "plants": len(prediction.plants),
        "tips": sum(p.tip is not None for p in prediction.plants),
    }


def _work_tiles(model: Any, frame: Path, lever: Lever) -> tuple[int, tuple[int, int]]:
    """How many tiles of which shape one frame takes under ``lever``."""
    from visionkit.data.dish import detect_dish
    from visionkit.imageio import read_image
    from visionkit.inference.segment import MULTIPLE
    from visionkit.inference.tiling import balanced_tile, tiles

    image, _ = read_image(frame)
    x0, y0, x1, y1 = detect_dish(image).bbox or (0, 0, image.shape[1], image.shape[0])
    w, h = round((x1 - x0) * lever.scale), round((y1 - y0) * lever.scale)
    th, tw = balanced_tile(h, lever.tile, 64, MULTIPLE), balanced_tile(w, lever.tile, 64, MULTIPLE)
    return len(tiles(max(h, th), max(w, tw), (th, tw), 64)), (th, tw)


class _Baseline:
    """The naive pipeline: resnet34 U-Net, full resolution, 256 px tiles one at a time."""

    def __init__(self, frame: Path) -> None:
        import segmentation_models_pytorch as smp
        import torch

        from visionkit.imageio import read_image

        torch.manual_seed(0)
        self.net = smp.Unet("resnet34", encoder_weights=None, in_channels=1, classes=5).eval()
        began = time.perf_counter()
        image, _ = read_image(frame)
        self.read_s = time.perf_counter() - began
        h, w = image.shape
        rows, cols = math.ceil(h / BASELINE_TILE), math.ceil(w / BASELINE_TILE)
        self.padded = np.zeros((rows * BASELINE_TILE, cols * BASELINE_TILE), np.float32)
        self.padded[:h, :w] = (image / 255.0 - 0.5) / 0.25
        self.positions = [(r, c) for r in range(rows) for c in range(cols)]
        self.times: list[float] = []
        self._next = 0
        self.macs = _conv_macs(self.net, (1, 1, BASELINE_TILE, BASELINE_TILE)) * len(self.positions)

    def time_tiles(self, count: int) -> None:
        """Run ``count`` more tiles (spread over the frame), one at a time, timing each."""
        import torch

        step = max(1, len(self.positions) // 16)
        with torch.inference_mode():
            for _ in range(count):
                r, c = self.positions[(self._next * step) % len(self.positions)]
                self._next += 1
                tile = self.padded[
                    r * BASELINE_TILE : (r + 1) * BASELINE_TILE,
                    c * BASELINE_TILE : (c + 1) * BASELINE_TILE,
                ]
                t0 = time.perf_counter()
                logits = self.net(torch.from_numpy(np.ascontiguousarray(tile))[None, None])
                logits.softmax(1).numpy()
                self.times.append(time.perf_counter() - t0)

    def seconds_per_frame(self) -> float:
        """Read time plus the median tile time times the number of tiles."""
        timed = self.times[1:] if len(self.times) > 1 else self.times
        return self.read_s + statistics.median(timed) * len(self.positions)


def _peak_worker(frame: str, model_dir: str, cache: str, random: bool, queue: Any) -> None:
    """In a fresh process: predict one frame with the defaults, report peak RSS (MiB)."""
    os.environ["VISIONKIT_CACHE"] = cache
    logging.getLogger("visionkit").setLevel(logging.ERROR)
    import visionkit.pipeline as predict_module
    from visionkit.landmarks import Landmarks
    from visionkit.pipeline import Predictor

    if random:  # landmarks on a random network's noise say nothing; their memory is small
        predict_module._find_landmarks = lambda seg, **kwargs: Landmarks(
            [], np.zeros(seg.probabilities.shape[1:], bool)
        )
    before = _rss_mib()
    Predictor(model_dir, masks=True).predict(frame)
    queue.put((before, _rss_mib()))


def _peak_rss(frame: Path, model_dir: Path, cache: Path, random: bool) -> tuple[float, float]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(
        target=_peak_worker, args=(str(frame), str(model_dir), str(cache), random, queue)
    )
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return result


def _levers(quick: bool) -> list[Lever]:
    default = Lever("default: onnx, scale 0.5, tile 768, batch 2")
    if quick:
        return [default]
    return [
        default,
        Lever("onnx, scale 0.4", scale=0.4),
        Lever("onnx, scale 0.33", scale=0.33),
        Lever("onnx, tile 512, batch 4", tile=512, batch=4),
        Lever("onnx, tile 512, batch 1", tile=512, batch=1),
        Lever("onnx, whole crop as one tile", tile=4096, batch=1),
        Lever("onnx, 1 thread", threads=1),
        Lever("onnx-int8 (dynamic quantisation)", backend="onnx-int8"),
        Lever("torch eager, channels_last", backend="torch"),
        Lever("torch eager, contiguous", backend="torch", channels_last=False),
        Lever("torchscript (traced, frozen)", backend="torchscript"),
        Lever("default + masks at input size (3 PNGs), edge-aware", masks=True),
        Lever("default + masks at input size (3 PNGs), linear", masks=True, refine=0),
    ]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per lever")
    parser.add_argument("--baseline-tiles", type=int, default=16, help="baseline tiles to time")
    parser.add_argument("--quick", action="store_true", help="only the default and the baseline")
    parser.add_argument("--model", type=Path, default=None, help="model folder [the default]")
    parser.add_argument("--random", action="store_true", help="random weights, true-mask tips")
    args = parser.parse_args()
    logging.getLogger("visionkit").setLevel(logging.ERROR)  # per-frame warnings are expected

    import torch

    import visionkit.pipeline as predict_module

    with tempfile.TemporaryDirectory(prefix="vk-bench-") as tmp:
        folder = Path(tmp)
        os.environ["VISIONKIT_CACHE"] = str(folder / "cache")
        frame, plate = _frame(folder)
        from visionkit.pipeline import DEFAULT_MODEL_DIR

        model_path = args.model
        if model_path is None and not args.random and DEFAULT_MODEL_DIR.is_dir():
            model_path = DEFAULT_MODEL_DIR
        random = model_path is None
        model = _model(folder, model_path)
        if random:
            predict_module._find_landmarks = _truth_landmarks(plate)
        weights = "random weights, true-mask landmarks" if random else f"model {model.path}"
        print(
            f"frame {frame.name}: 4202 x 3006, torch threads {torch.get_num_threads()}, {weights}"
        )

        results = []
        for lever in _levers(args.quick):
            result = _run_lever(model, frame, plate, lever, args.repeat, folder / "out")
            count, shape = _work_tiles(model, frame, lever)
            macs = _conv_macs(model.module, (1, 1, *shape)) * count
            result["gmacs"] = macs / 1e9
            result["tiles"] = f"{count} x {shape[0]}x{shape[1]}"
            results.append(result)
            stages = ", ".join(f"{k} {v:.0f}" for k, v in result["stages_ms"].items())
            low, high = result["spread"]
            print(
                f"{result['label']:<44} {result['seconds']:6.2f} s/frame "
                f"(min {low:.2f}, max {high:.2f}; {result['tiles']} tiles; "
                f"{result['gmacs']:.1f} GMACs; ms: {stages}; "
                f"{result['tips']}/{result['plants']} tips, "
                f"{result['tips_within_1mm']} true tips within 1 mm)"
            )

        # Head to head: default frames and baseline tiles alternate, so both
        # see the same load on the shared CPU.
        from visionkit.pipeline import Predictor

        default_lever = _levers(True)[0]
        predictor = Predictor(model, settings=default_lever.settings())
        predictor.predict(frame)  # warm-up
        base = _Baseline(frame)
        base.time_tiles(1)  # warm-up
        chunk = max(1, args.baseline_tiles // args.repeat)
        default_times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            predictor.predict(frame)
            default_times.append(time.perf_counter() - began)
            base.time_tiles(chunk)
        default_s = statistics.median(default_times)
        base_s = base.seconds_per_frame()
        ratio = base_s / default_s
        rss_start, rss_peak = _peak_rss(frame, model.path, folder / "cache", random)
        summary = {
            "model": "random weights" if random else str(model.path),
            "default_s_per_frame": round(default_s, 3),
            "default_tips_within_1mm": results[0]["tips_within_1mm"],
            "default_gmacs_per_frame": round(results[0]["gmacs"], 2),
            "baseline_s_per_frame": round(base_s, 2),
            "baseline_gmacs_per_frame": round(base.macs / 1e9, 1),
            "speedup_vs_baseline": round(ratio, 1),
            "peak_rss_mib_fresh_process": round(rss_peak, 1),
            "rss_mib_after_imports": round(rss_start, 1),
        }
        print(
            f"head to head: default {default_s:.2f} s/frame (median of {args.repeat}); "
            f"baseline (resnet34 U-Net, full res, {BASELINE_TILE} px tiles one at a time, "
            f"eager float32) {statistics.median(base.times[1:]) * 1000:.0f} ms/tile x "
            f"{len(base.positions)} tiles + read {base.read_s:.2f} s = {base_s:.1f} s/frame "
            f"(extrapolated from {len(base.times) - 1} timed tiles), {base.macs / 1e9:.0f} GMACs"
        )
        print(json.dumps(summary, indent=2))
        target = "met" if default_s <= 1.0 and ratio >= 20 else "NOT met"
        print(f"target (<= 1.0 s/frame and >= 20x the baseline): {target}")


if __name__ == "__main__":
    main()
