"""Seconds per synthetic Hades frame on one core: generation alone, and with writing.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--plates 5] [--scale 1.0]``.
The target is <= 2 s for one full 4202 x 3006 frame with all masks.
"""

from __future__ import annotations

import os

# One core: set before numpy/OpenCV start their thread pools.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse
import statistics
import tempfile
import time


def main() -> None:
    """Print the median seconds per frame without and with writing the files."""
    import cv2

    from visionkit.synth import SynthConfig, generate_plate, write_plate

    cv2.setNumThreads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plates", type=int, default=5, help="plates to time (median is printed)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="resolution factor (1 = full Hades)"
    )
    args = parser.parse_args()
    config = SynthConfig() if args.scale == 1.0 else SynthConfig().scaled(args.scale)
    generate_plate(0, config, index=999)  # warm caches (imports, droplet templates)

    generate_s: list[float] = []
    total_s: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.plates):
            start = time.perf_counter()
            plate = generate_plate(1, config, index=i)
            made = time.perf_counter()
            write_plate(plate, folder)
            done = time.perf_counter()
            generate_s.append(made - start)
            total_s.append(done - start)
    size = f"{config.width}x{config.height}"
    print(f"frame {size}, {args.plates} plates, one core (OMP_NUM_THREADS=1, cv2 1 thread)")
    made = statistics.median(generate_s)
    print(f"generate (image + 4 masks + landmarks): median {made:.2f} s/frame")
    print(
        f"generate + write PNG, 4 TIFF masks, JSON: median {statistics.median(total_s):.2f} s/frame"
    )


if __name__ == "__main__":
    main()
