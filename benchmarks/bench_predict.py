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

    .venv/bin/python benchmarks/bench_predict.py [--repeat 3] [--frames 4] [--table [--quick]]

By default only the head to head runs: the JSON-only path, ``visionkit predict``
with its default outputs (JSON, three mask PNGs, overlay) on a folder of
``--frames`` copies of the frame, timed per frame beyond the first, and the
baseline, alternating; then the start-up of a fresh ``visionkit predict``
process to its first frame's start (warm ONNX cache), the peak memory, and
the share of this machine's float32 matmul peak (numpy, measured here) that
the JSON-only path reaches. The default settings run the network only over
the band of rows that holds the plants (``skip_empty``); the multiply-
accumulates printed are those that run spent (the coarse pass plus the tiles
run), and the JSON-only path over every row (``--no-skip-empty``) is timed
too, with its dense MACs. ``--table`` first times every lever (``--quick``:
only the default; ``--lever TEXT``: those whose name contains ``TEXT``).
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
    backend: str | None = None  # the model's own runtime
    scale: float = 0.5
    tile: int = 768
    batch: int = 2
    threads: int | None = None
    channels_last: bool = True
    masks: bool = False
    refine: int | None = None
    skip_empty: bool = True
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
            skip_empty=self.skip_empty,
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
    default = Lever("default: the model's runtime, scale 0.5, tile 768, batch 2")
    if quick:
        return [default]
    # The other levers vary one setting of float32 ONNX Runtime, so each row
    # compares with "onnx (float32)" whatever runtime the model prefers.
    return [
        default,
        Lever("onnx (float32), the same settings", backend="onnx"),
        Lever("onnx, every row (--no-skip-empty)", backend="onnx", skip_empty=False),
        Lever("onnx, scale 0.4", backend="onnx", scale=0.4),
        Lever("onnx, scale 0.33", backend="onnx", scale=0.33),
        Lever("onnx, tile 512, batch 4", backend="onnx", tile=512, batch=4),
        Lever("onnx, tile 512, batch 1", backend="onnx", tile=512, batch=1),
        Lever("onnx, whole crop as one tile", backend="onnx", tile=4096, batch=1),
        Lever("onnx, 1 thread", backend="onnx", threads=1),
        Lever("onnx-int8 (static quantisation, calibrated)", backend="onnx-int8"),
        Lever("torch eager, channels_last", backend="torch"),
        Lever("torch eager, contiguous", backend="torch", channels_last=False),
        Lever("torchscript (traced, frozen)", backend="torchscript"),
        Lever("onnx + masks at input size (3 PNGs), edge-aware", backend="onnx", masks=True),
        Lever("onnx + masks at input size (3 PNGs), linear", backend="onnx", masks=True, refine=0),
    ]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per lever")
    parser.add_argument("--baseline-tiles", type=int, default=16, help="baseline tiles to time")
    parser.add_argument("--quick", action="store_true", help="with --table: only the default")
    parser.add_argument("--table", action="store_true", help="also time every lever (slow)")
    parser.add_argument(
        "--lever",
        action="append",
        default=[],
        metavar="TEXT",
        help="with --table: only the levers whose name contains TEXT (repeatable)",
    )
    parser.add_argument("--frames", type=int, default=4, help="frames in the CLI folder run")
    parser.add_argument("--model", type=Path, default=None, help="model folder [the default]")
    parser.add_argument("--random", action="store_true", help="random weights, true-mask tips")
    args = parser.parse_args()
    logging.getLogger("visionkit").setLevel(logging.ERROR)  # per-frame warnings are expected

    import torch

    import visionkit.pipeline as predict_module
    from visionkit.pipeline import Predictor

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
        from visionkit.inference.runtime import resolve_backend

        weights = "random weights, true-mask landmarks" if random else f"model {model.path}"
        print(
            f"frame {frame.name}: 4202 x 3006, torch threads {torch.get_num_threads()}, {weights}, "
            f"its runtime {resolve_backend(model)}"
        )

        results = []
        chosen = [
            lever
            for lever in _levers(args.quick)
            if not args.lever or any(text in lever.label for text in args.lever)
        ]
        for lever in chosen if args.table else []:
            result = _run_lever(model, frame, plate, lever, args.repeat, folder / "out")
            count, shape = _work_tiles(model, frame, lever)
            macs = _conv_macs(model.module, (1, 1, *shape)) * count
            result["gmacs"] = macs / 1e9
            result["tiles"] = f"{count} x {shape[0]}x{shape[1]}"
            if lever.skip_empty:  # what the band actually ran
                band_gmacs, runs = _band(Predictor(model, settings=lever.settings()), frame)
                if band_gmacs is not None:
                    result["gmacs"], result["tiles"] = band_gmacs, runs
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
        _head_to_head(args, model, frame, plate, folder, random)


def _matmul_peak_gflops(side: int = 2048, repeat: int = 5) -> float:
    """This machine's float32 matmul rate (numpy's BLAS on every core), best of ``repeat``."""
    a = np.random.default_rng(0).random((side, side), dtype=np.float32)
    b = np.random.default_rng(1).random((side, side), dtype=np.float32)
    a @ b  # warm-up: BLAS threads start
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2.0 * side**3 / best / 1e9


def _timed(work: Callable[[], Any]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def _cli_folder_seconds(frames: Path, out: Path, model: Path | None) -> float:
    """Wall seconds of ``visionkit predict FOLDER --out OUT`` (default outputs) in this process."""
    from click.testing import CliRunner

    from visionkit.cli import main

    args = ["predict", str(frames), "--out", str(out)]
    if model is not None:
        args += ["--model", str(model)]
    began = time.perf_counter()
    result = CliRunner().invoke(main, args)
    elapsed = time.perf_counter() - began
    if result.exit_code != 0:
        raise RuntimeError(f"visionkit predict failed: {result.output}")
    return elapsed


#: A fresh ``visionkit predict`` process that reports when the first frame starts.
_STARTUP_CHILD = """
import sys, time
launched = float(sys.argv.pop(1))
import visionkit.pipeline as pipeline
original = pipeline.Predictor.predict_with_segmentation
def first(self, *args, **kwargs):
    sys.stderr.write(f"FIRST_FRAME_AT {time.time() - launched:.3f}\\n")
    pipeline.Predictor.predict_with_segmentation = original
    return original(self, *args, **kwargs)
pipeline.Predictor.predict_with_segmentation = first
import atexit
atexit.register(lambda: print("TORCH", "torch" in sys.modules))
from visionkit.cli import main
main(sys.argv[1:])
"""


def _startup(frame: Path, out: Path, model: Path, cache: Path) -> tuple[float, float, bool]:
    """A fresh process's ``(seconds to the first frame's start, total seconds, torch imported)``."""
    import subprocess
    import sys

    env = {**os.environ, "VISIONKIT_CACHE": str(cache), "PYTHONWARNINGS": "ignore"}
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-c", _STARTUP_CHILD, str(launched),
         "predict", str(frame), "--out", str(out), "--model", str(model)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    total = time.time() - launched
    first = [line for line in done.stderr.splitlines() if line.startswith("FIRST_FRAME_AT")]
    if not first:
        raise RuntimeError(f"the start-up probe failed: {done.stderr[-2000:]}")
    return float(first[0].split()[1]), total, "TORCH True" in done.stdout


def _sparse_gmacs(model: Any, seg: Any) -> float:
    """Multiply-accumulates a sparse (``skip_empty``) segmentation actually spent, GMACs.

    The coarse pass once over its shrunk input plus the full model on every
    tile that ran, counted with the same Conv2d hooks as the dense figure.
    """
    total = 0
    for stats in seg.sparse:
        if stats.coarse_shape != (0, 0):
            total += _conv_macs(model.module, (1, 1, *stats.coarse_shape))
        for shape in set(stats.tile_shapes):
            count = stats.tile_shapes.count(shape)
            total += _conv_macs(model.module, (1, 1, *shape)) * count
    return total / 1e9


def _dense_run(model: Any, frame: Path, plate: Any, repeat: int) -> tuple[float, str]:
    """JSON-only over every row (``--no-skip-empty``): ``(s/frame, tips within 1 mm)``."""
    from visionkit.pipeline import Predictor

    settings = _levers(True)[0].settings().replace(skip_empty=False)
    predictor = Predictor(model, settings=settings)
    prediction = predictor.predict(frame)  # warm-up: new tile shapes
    times = [_timed(lambda: predictor.predict(frame)) for _ in range(repeat)]
    hits, truth = _tips_within_1mm(prediction, plate)
    return statistics.median(times), f"{hits}/{truth}"


def _band(predictor: Any, frame: Path) -> tuple[float | None, str]:
    """``(GMACs spent, tiles run)`` of one default prediction; ``None`` GMACs when dense."""
    _, seg = predictor.predict_with_segmentation(predictor.read(frame))
    if not seg.sparse:
        return None, "every row (dense)"
    runs = ", ".join(
        f"{s.tiles_run} tiles over rows {s.rows[0]}-{s.rows[1]} of {s.height}" for s in seg.sparse
    )
    return _sparse_gmacs(predictor.model, seg), runs


def _head_to_head(
    args: argparse.Namespace, model: Any, frame: Path, plate: Any, folder: Path, random: bool
) -> None:
    """JSON-only and default-output paths against the naive baseline, in one run."""
    import shutil

    from visionkit.pipeline import Predictor

    default_lever = _levers(True)[0]
    count, shape = _work_tiles(model, frame, default_lever)
    dense_gmacs = _conv_macs(model.module, (1, 1, *shape)) * count / 1e9
    predictor = Predictor(model, settings=default_lever.settings())
    prediction = predictor.predict(frame)  # warm-up, and the ONNX export for the others
    hits, truth = _tips_within_1mm(prediction, plate)
    band_gmacs, tiles_run = _band(predictor, frame)
    gmacs = dense_gmacs if band_gmacs is None else band_gmacs
    extra = max(1, args.frames - 1)
    one, many = folder / "one", folder / "many"
    one.mkdir()
    many.mkdir()
    shutil.copy(frame, one / frame.name)
    for index in range(extra + 1):
        shutil.copy(frame, many / f"{index:02d}_{frame.name}")
    model_dir = model.path
    _cli_folder_seconds(one, folder / "cli-warm", model_dir)  # warm-up

    base = _Baseline(frame)
    base.time_tiles(1)  # warm-up
    chunk = max(1, args.baseline_tiles // (2 * args.repeat))
    json_times, default_times = [], []
    for round_ in range(args.repeat):
        json_times.append(_timed(lambda: predictor.predict(frame)))
        base.time_tiles(chunk)
        single = _cli_folder_seconds(one, folder / f"cli1-{round_}", model_dir)
        several = _cli_folder_seconds(many, folder / f"clin-{round_}", model_dir)
        default_times.append((several - single) / extra)
        base.time_tiles(chunk)
    json_s = statistics.median(json_times)
    default_s = statistics.median(default_times)
    base_s = base.seconds_per_frame()
    dense_s, dense_hits = _dense_run(model, frame, plate, args.repeat)
    peak = _matmul_peak_gflops()
    share = 2.0 * gmacs / json_s / peak
    first_s, total_s, torch_loaded = _startup(
        frame, folder / "startup", model.path, folder / "cache"
    )
    rss_start, rss_peak = _peak_rss(frame, model.path, folder / "cache", random)
    summary = {
        "model": "random weights" if random else str(model.path),
        "json_only_s_per_frame": round(json_s, 3),
        "default_outputs_s_per_extra_frame": round(default_s, 3),
        "default_over_json_only": round(default_s / json_s, 2),
        "baseline_s_per_frame": round(base_s, 2),
        "speedup_json_only_vs_baseline": round(base_s / json_s, 1),
        "speedup_default_vs_baseline": round(base_s / default_s, 1),
        "startup_s_to_first_frame": round(first_s, 2),
        "startup_total_one_frame_s": round(total_s, 2),
        "startup_imported_torch": torch_loaded,
        "gmacs_spent_per_frame": round(gmacs, 2),
        "tiles_run": tiles_run,
        "dense_json_only_s_per_frame": round(dense_s, 3),
        "dense_gmacs_per_frame": round(dense_gmacs, 2),
        "dense_tips_within_1mm": dense_hits,
        "baseline_gmacs_per_frame": round(base.macs / 1e9, 1),
        "matmul_peak_gflops": round(peak, 1),
        "share_of_matmul_peak_json_only": round(share, 3),
        "tips_within_1mm": f"{hits}/{truth}",
        "peak_rss_mib_fresh_process": round(rss_peak, 1),
        "rss_mib_after_imports": round(rss_start, 1),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(
        f"head to head: JSON-only {json_s:.2f} s/frame, default outputs (JSON, 3 masks, "
        f"overlay; `visionkit predict` on a folder) {default_s:.2f} s per extra frame, "
        f"baseline {base_s:.1f} s/frame ({statistics.median(base.times[1:]) * 1000:.0f} ms/tile "
        f"x {len(base.positions)} tiles, {len(base.times) - 1} timed); start-up to the first "
        f"frame {first_s:.2f} s (torch imported: {torch_loaded}); every row "
        f"(--no-skip-empty) {dense_s:.2f} s/frame"
    )
    print(json.dumps(summary, indent=2))
    checks = {
        "JSON-only <= 0.5 s/frame": json_s <= 0.5,
        "default <= 1.25x JSON-only": default_s <= 1.25 * json_s,
        "default >= 40x the baseline": base_s / default_s >= 40,
        "start-up <= 1.5 s": first_s <= 1.5,
    }
    for name, met in checks.items():
        print(f"target {name}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
