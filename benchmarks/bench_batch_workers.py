"""Plates per hour of a batch-prediction job with 1, 2, ... qcluster workers sharing one broker.

A scratch portal (SQLite, its own files; ``benchmarks/portal_process.py``) gets
the shipped model in production (``manage.py seed_demo --plates 0``). For each
number of workers, that many ``manage.py qcluster`` processes (one worker each)
start on Redis (``--redis``, default ``redis://127.0.0.1:6379/8``; the ORM
broker with ``--redis ''``). A warm-up batch (two shards per worker) loads the
model in every worker; then a batch of ``--plates`` synthetic plates is timed
from its submission to the job's end. The clusters stop, and the next count
starts afresh. Everything shares this machine's cores, so 2 workers on 2 cores
show how far the batch scales with cores here.

    .venv/bin/python benchmarks/bench_batch_workers.py --workers 1,2 --plates 16
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.portal_process import portal_env  # noqa: E402

logger = logging.getLogger("bench_batch_workers")


def _png(array: Any) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _plates(count: int, scale: float, crop: bool) -> list[tuple[str, bytes]]:
    from visionkit.synth import SynthConfig, generate_plate

    config = SynthConfig().scaled(scale)
    out = []
    for index in range(count):
        plate = generate_plate(50, config, index)
        image = plate.cropped().image if crop else plate.image
        out.append((f"plate-{index:03d}.png", _png(image)))
    return out


@contextlib.contextmanager
def _clusters(count: int, env: dict[str, str], home: Path) -> Iterator[None]:
    processes = []
    for index in range(count):
        log = (home / f"qcluster-{count}-{index}.log").open("wb")
        processes.append((subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=home, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ), log))  # fmt: skip
    try:
        yield
    finally:
        for process, _ in processes:
            process.send_signal(signal.SIGTERM)
        for process, log in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            log.close()


def _run_batch(plates: list[tuple[str, bytes]], timeout: float) -> tuple[float, Any]:
    """Submit a batch and wait for its end; (seconds, the job)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal.accounts.models import User
    from portal.jobs.models import Job
    from portal.predictions.services import create_batch

    user = User.objects.filter(is_superuser=True).first() or User.objects.first()
    files = [SimpleUploadedFile(name, data, "image/png") for name, data in plates]
    start = time.perf_counter()
    job = create_batch(files=files, user=user)  # type: ignore[arg-type]
    while time.perf_counter() - start < timeout:
        job = Job.objects.get(pk=job.pk)
        if job.is_final:
            return time.perf_counter() - start, job
        time.sleep(0.2)
    raise SystemExit(f"the batch did not finish in {timeout} s (job {job.pk}: {job.status})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, one run each")
    parser.add_argument("--plates", type=int, default=16, help="plates in the timed batch")
    parser.add_argument("--scale", type=float, default=1.0, help="plate scale (1: 4202 x 3006)")
    parser.add_argument("--crop", action="store_true", help="plates cut to the dish")
    parser.add_argument("--chunk", type=int, default=2, help="VISIONKIT_BATCH_CHUNK")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8", help="'' for the ORM")
    parser.add_argument("--json", type=Path, help="also save the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    counts = [int(part) for part in args.workers.split(",") if part]

    home = Path(tempfile.mkdtemp(prefix="visionkit-bench-batch-"))
    env = portal_env(home, 0) | {
        "VISIONKIT_SECRET_KEY": "benchmark-only-" + "x" * 40, "VISIONKIT_JOB_TRACK": "0",
        "VISIONKIT_BATCH_CHUNK": str(args.chunk), "VISIONKIT_REDIS_URL": args.redis,
        "VISIONKIT_CACHE": str(home / "cache"), "DJANGO_SETTINGS_MODULE": "portal.settings",
        "VISIONKIT_DEMO_PASSWORD": "benchmark-only-password-42", "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    os.environ.update(env)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env,
                   check=True, cwd=home)  # fmt: skip
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "seed_demo", "--plates", "0"],
                   env=env, check=True, cwd=home, stdout=subprocess.DEVNULL)  # fmt: skip
    import django

    django.setup()
    if args.redis:
        from django_q.brokers import get_broker

        get_broker().purge_queue()
    logger.info("drawing %d plates at scale %s", args.plates, args.scale)
    plates = _plates(args.plates, args.scale, args.crop)
    rows = []
    for count in counts:
        with _clusters(count, env, home):
            _run_batch(plates[: 2 * count * args.chunk], 600)  # warm-up: the model in each worker
            seconds, job = _run_batch(plates, 3600)
        per_hour = args.plates / seconds * 3600
        rows.append({"workers": count, "plates": args.plates, "seconds": round(seconds, 1),
                     "plates_per_hour": round(per_hour), "status": job.status,
                     "predicted": job.result.get("predicted"),
                     "per_worker_per_hour": round(per_hour / count)})  # fmt: skip
        logger.info("%d worker(s): %.1f s, %.0f plates/h", count, seconds, per_hour)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at the end {load}, "
          f"Python {platform.python_version()}, broker: {'Redis' if args.redis else 'ORM'}, "
          f"plates: {args.plates} at scale {args.scale}{' cropped' if args.crop else ''}, "
          f"chunk {args.chunk}")  # fmt: skip
    print("| workers | predicted | job | seconds | plates/hour | plates/hour per worker |")
    print("| ---: | ---: | --- | ---: | ---: | ---: |")
    for row in rows:
        cells = [f"{row['predicted']}/{row['plates']}", row["status"], row["seconds"],
                 row["plates_per_hour"], row["per_worker_per_hour"]]  # fmt: skip
        print(f"| {row['workers']} | " + " | ".join(str(cell) for cell in cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(row["status"] == "succeeded" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
