"""Time :func:`visionkit.landmarks.find_landmarks` on a 1350 x 1350 working-scale dish.

The maps are the ground-truth masks of synthetic plates drawn at half
scale (about 10 px/mm) and cropped to the dish, given as probabilities.
Run from the repository root::

    .venv/bin/python benchmarks/bench_landmarks.py [--plates 5] [--repeat 5]

Prints the median and worst time per plate, with OpenCV held to one thread
(the target is under 150 ms on one core).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from visionkit.landmarks import find_landmarks
from visionkit.synth import SynthConfig, generate_plate

SIDE = 1350


def _dish_maps(seed: int) -> tuple[dict[str, np.ndarray], float]:
    plate = generate_plate(seed, SynthConfig().scaled(0.5))
    x0, y0, x1, y1 = plate.landmarks["dish"]["bbox"]
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    h, w = plate.image.shape[:2]
    left = int(min(max(cx - SIDE // 2, 0), w - SIDE))
    top = int(min(max(cy - SIDE // 2, 0), h - SIDE))
    maps = {
        name: mask[top : top + SIDE, left : left + SIDE].astype(np.float32)
        for name, mask in plate.masks.items()
    }
    return maps, 1.0 / float(plate.landmarks["dish"]["mm_per_px"])


def main() -> None:
    """Parse arguments, time the plates, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plates", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    times: list[float] = []
    for seed in range(args.plates):
        maps, px_per_mm = _dish_maps(seed)
        find_landmarks(maps["root"], maps["shoot"], maps["seed"], px_per_mm=px_per_mm)  # warm-up
        for _ in range(args.repeat):
            began = time.perf_counter()
            plants = find_landmarks(
                maps["root"],
                maps["shoot"],
                maps["seed"],
                px_per_mm=px_per_mm,
                occluded_prob=maps["occluded_root"],
            ).plants
            times.append(1e3 * (time.perf_counter() - began))
        print(f"plate {seed}: {len(plants)} plants, {sum(p.tip is not None for p in plants)} tips")
    print(
        f"find_landmarks on {SIDE}x{SIDE}: median {statistics.median(times):.1f} ms, "
        f"worst {max(times):.1f} ms over {len(times)} runs"
    )


if __name__ == "__main__":
    main()
