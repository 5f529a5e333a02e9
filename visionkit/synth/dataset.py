"""Generate and write many synthetic plates, optionally in several processes.

Plate ``i`` depends only on ``(seed, i, config)``, so a data set is the same
byte for byte whatever the number of workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from visionkit.synth.config import SynthConfig
from visionkit.synth.generator import generate_plate
from visionkit.synth.writer import write_plate

__all__ = ["generate_dataset"]

logger = logging.getLogger(__name__)


def _make_one(job: tuple[int, int, SynthConfig, str, bool]) -> list[Path]:
    seed, index, config, out_dir, crop = job
    return write_plate(generate_plate(seed, config, index), out_dir, crop=crop)


def _single_threaded_worker() -> None:
    # Each worker is one core's worth of work; nested thread pools only fight.
    import cv2

    cv2.setNumThreads(1)


def generate_dataset(
    out_dir: str | os.PathLike[str],
    n: int,
    seed: int,
    *,
    workers: int = 1,
    crop: bool = False,
    config: SynthConfig | None = None,
    progress: bool = True,
) -> list[Path]:
    """Write plates ``0..n-1`` of the data set made with ``seed`` into ``out_dir``.

    Args:
        out_dir: the folder (created if missing).
        n: number of plates (>= 0).
        seed: the data set's seed; plate ``i`` uses a seed derived from ``(seed, i)``.
        workers: processes to use; 1 runs in this process.
        crop: write dish crops instead of full frames.
        config: what plates may look like (default: full Hades frames).
        progress: show a tqdm progress bar.

    Returns:
        Every written file, plate by plate (image, masks, landmarks).
    """
    from tqdm import tqdm

    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    config = config or SynthConfig()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, i, config, str(folder), crop) for i in range(n)]
    bar = tqdm(total=n, unit="plate", desc="synth", disable=not progress)
    written: list[Path] = []
    try:
        if workers == 1 or n <= 1:
            for job in jobs:
                written += _make_one(job)
                bar.update()
        else:
            # "spawn", not "fork": forking a process whose OpenCV/OpenMP thread
            # pools are already running can deadlock the children.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=_single_threaded_worker
            ) as pool:
                for files in pool.map(_make_one, jobs):
                    written += files
                    bar.update()
    finally:
        bar.close()
    logger.info("wrote %d plates (%d files) to %s", n, len(written), folder)
    return written
