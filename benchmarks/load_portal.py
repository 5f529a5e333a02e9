"""Latency, throughput and errors of the portal under gunicorn at set numbers of concurrent users.

The portal is started as ``make run`` starts it (``python -m portal.serve``:
migrate, the demo seed with the default model in production, gunicorn with
``--workers`` sync workers, each loading the model once, and one qcluster
worker beside it), on a free port with a scratch ``VISIONKIT_VAR_DIR``, SQLite
and the ORM job broker. Once ``/readyz`` answers, the script takes the demo
operator's token and, for each number of users in ``--users``, runs locust
headless as a subprocess (``benchmarks/load/locustfile.py``): every user POSTs
synthetic plates to ``/api/predictions/`` back to back (and, one call in
eleven, lists the five latest), for ``--duration`` seconds. One warm-up run
with as many users as workers comes first and is not counted. Each run lets
its users finish the request in flight before it ends, so the next run starts
on idle workers.

Printed: per number of users and per request, the requests, failures, median
(p50) and 95th-percentile latency and the throughput, read from locust's
``*_stats.csv``; the time each upload spent inside a gunicorn worker (from
its access log: the latency without the wait for a free worker); the cores
the portal and locust used against the cores every other process used (the
build machine is shared); and the machine (CPU, cores, memory, GPU), the worker
count and the image size, so the figures can be quoted with where they came from.
Locust rounds latencies above 100 ms to two significant figures (3432 ms
is reported as 3400).

Run from the repository root::

    .venv/bin/python benchmarks/load_portal.py [--users 1,2,4] [--duration 60] \\
        [--workers 2] [--scale 1] [--crop] [--json load.json] [--keep DIR]

It exits 1 if any request failed. ``docs/load.md`` has the figures and how to read them.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import logging
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

__all__ = ["CpuShare", "Row", "machine", "main", "read_failures", "read_stats", "worker_ms"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portal_process import free_port, portal_env

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "benchmarks" / "load" / "locustfile.py"
LOCUST = Path(sys.executable).with_name("locust")

logger = logging.getLogger("load_portal")


@dataclass(frozen=True)
class Row:
    """One line of a locust run's figures: one request kind, or all of them (``Aggregated``)."""

    users: int
    request: str
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    throughput_rps: float


def _number(text: str) -> float | None:
    """A locust CSV cell as a number; ``N/A`` (no requests of that kind) as ``None``."""
    return None if text.strip() in ("", "N/A") else float(text)


def read_stats(path: Path, users: int) -> list[Row]:
    """The rows of locust's ``<prefix>_stats.csv`` at ``path``, the ``Aggregated`` row last.

    The request is named as locust reports it, its method first (``POST /api/predictions/``);
    p50 is locust's ``50%`` column, p95 its ``95%`` column, the throughput its ``Requests/s``.
    """
    rows = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            name = " ".join(part for part in (record["Type"], record["Name"]) if part)
            rows.append(Row(
                users=users, request=name, requests=int(record["Request Count"]),
                failures=int(record["Failure Count"]), p50_ms=_number(record["50%"]),
                p95_ms=_number(record["95%"]), throughput_rps=float(record["Requests/s"]),
            ))  # fmt: skip
    rows.sort(key=lambda row: row.request == "Aggregated")
    return rows


def read_failures(path: Path) -> list[str]:
    """Locust's ``<prefix>_failures.csv`` as lines ``N x METHOD NAME: error`` (none if absent)."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [f"{r['Occurrences']} x {r['Method']} {r['Name']}: {r['Error']}"
                for r in csv.DictReader(handle)]  # fmt: skip


def machine() -> dict[str, Any]:
    """Where the figures come from: CPU model and cores, memory, GPU, Python and OS."""
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    memory_gib = None
    try:
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory_gib = round(int(found.group(1)) / 2**20, 1) if found else None
    except OSError:
        pass
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        gpu = "none (no torch)"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": usable, "memory_gib": memory_gib, "gpu": gpu,
            "python": platform.python_version(), "os": platform.platform()}  # fmt: skip


class CpuShare:
    """Cores the portal and locust used over one run, and cores every other process used.

    The build machine is shared: a test suite running beside the benchmark takes
    cores from the portal. Both figures are averages over the run's wall time,
    from ``/proc/stat`` (all of the machine, through psutil) and from the CPU
    times of the portal's processes, of locust (a waited-for child) and of this
    script.
    """

    def __init__(self, portal_pid: int) -> None:
        self._pid = portal_pid
        self._start = self._sample()

    def _ours(self) -> float:
        import psutil

        seconds = 0.0
        try:
            root = psutil.Process(self._pid)
            for process in [root, *root.children(recursive=True)]:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                seconds += times.user + times.system
        except psutil.NoSuchProcess:
            pass
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            seconds += usage.ru_utime + usage.ru_stime
        return seconds

    def _sample(self) -> tuple[float, float, float]:
        import psutil

        times = psutil.cpu_times()
        busy = times.user + times.nice + times.system
        busy += getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0)
        return time.monotonic(), busy, self._ours()

    def cores(self) -> tuple[float, float]:
        """(cores used by the portal and locust, cores used by everything else) since the start."""
        now, busy, ours = self._sample()
        wall = max(1e-6, now - self._start[0])
        mine = (ours - self._start[2]) / wall
        return mine, max(0.0, (busy - self._start[1]) / wall - mine)


def _start_portal(home: Path, workers: int) -> tuple[subprocess.Popen[str], str, Path]:
    """``python -m portal.serve`` in its own process group, up once ``/readyz`` says 200."""
    port = free_port()
    env = portal_env(home, port, web_workers=workers)
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "portal.serve"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_portal(process)
            raise SystemExit("the portal did not get ready:\n" + log.read_text()[-3000:])
        try:
            if requests.get(url + "readyz", timeout=5).status_code == 200:
                return process, url, log
        except requests.RequestException:
            pass
        time.sleep(1)


def _stop_portal(process: subprocess.Popen[str]) -> None:
    """Ctrl-C to the portal's process group (web server and worker), then wait; kill if stuck."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        logger.warning("the portal did not stop within 60 s of Ctrl-C; killing it")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _token(url: str, password: str) -> str:
    credentials = {"username": "operator", "password": password}
    answer = requests.post(url + "api/auth/token/", data=credentials, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["token"])


def _locust(
    url: str, token: str, users: int, seconds: int, prefix: Path, args: argparse.Namespace
) -> tuple[list[Row], list[str]]:
    """One headless locust run of ``users`` users for ``seconds``: its rows and its failures."""
    env = {**os.environ, "VISIONKIT_LOAD_TOKEN": token, "VISIONKIT_LOAD_SCALE": str(args.scale),
           "VISIONKIT_LOAD_CROP": "1" if args.crop else "0",
           "VISIONKIT_LOAD_PLATES": str(args.plates)}  # fmt: skip
    argv = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
            "-t", f"{seconds}s", "--stop-timeout", str(args.stop_timeout),
            "--host", url.rstrip("/"), "--csv", str(prefix), "--only-summary",
            "--exit-code-on-error", "0"]  # fmt: skip
    log = prefix.with_suffix(".log")
    with log.open("w") as out:
        done = subprocess.run(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=seconds + args.stop_timeout + 300, check=False)  # fmt: skip
    stats = prefix.parent / f"{prefix.name}_stats.csv"
    if done.returncode != 0 or not stats.is_file():
        raise SystemExit(f"locust failed ({done.returncode}):\n" + log.read_text()[-3000:])
    return read_stats(stats, users), read_failures(prefix.parent / f"{prefix.name}_failures.csv")


def _image_size(scale: float, crop: bool) -> str:
    from visionkit.synth import SynthConfig

    config = SynthConfig() if scale == 1.0 else SynthConfig().scaled(scale)
    size = f"{config.width}x{config.height}"
    return f"dish crops of {size} frames" if crop else f"{size} frames"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _table(rows: list[Row]) -> str:
    header = f"{'users':>5}  {'request':<38} {'requests':>8} {'failures':>8} {'p50 ms':>8} " \
             f"{'p95 ms':>8} {'req/s':>7}"  # fmt: skip
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.users:>5}  {row.request:<38} {row.requests:>8} {row.failures:>8} "
            f"{_ms(row.p50_ms):>8} {_ms(row.p95_ms):>8} {row.throughput_rps:>7.2f}"
        )
    return "\n".join(lines)


_POST_LINE = re.compile(r'"POST /api/predictions/ HTTP/[\d.]+" \d+ \S+ (\d+)ms')


def worker_ms(log: Path) -> list[int]:
    """Milliseconds each ``POST /api/predictions/`` spent in a gunicorn worker, in log order.

    Read from the portal's access log (``%(M)sms``, see ``portal/gunicorn_conf.py``):
    the time from the worker taking the request to its answer, so without the
    wait in the listen queue that a client's latency includes.
    """
    return [int(ms) for ms in _POST_LINE.findall(log.read_text(errors="replace"))]


def _percentile(values: list[int], share: float) -> float | None:
    """The ``share`` quantile of ``values`` (nearest rank), ``None`` when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))])


def _portal_trouble(log: Path) -> dict[str, int]:
    """How often the portal's log shows a worker timeout, a dead worker or a traceback."""
    text = log.read_text(errors="replace")
    marks = {"worker timeouts": "WORKER TIMEOUT", "workers killed": "was sent SIGKILL",
             "tracebacks": "Traceback (most recent call last)"}  # fmt: skip
    return {what: text.count(mark) for what, mark in marks.items()}


def main() -> int:
    """Start the portal, run locust at each concurrency, print the table; non-zero on failures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="1,2,4", help="concurrent users, comma-separated")
    parser.add_argument("--duration", type=int, default=60, help="seconds per concurrency")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--warmup",
        type=int,
        default=15,
        help="seconds of an uncounted run first, one user per worker (0: none)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="plate size as a fraction of the 4202 x 3006 Hades frame",
    )
    parser.add_argument("--crop", action="store_true", help="send plates cut to the dish")
    parser.add_argument("--plates", type=int, default=4, help="distinct plates to cycle through")
    parser.add_argument(
        "--stop-timeout",
        type=int,
        default=120,
        help="seconds a run's users may take to finish their last request",
    )
    parser.add_argument("--json", type=Path, help="also save the figures here")
    parser.add_argument(
        "--keep", type=Path, help="copy the portal's log and locust's files into this folder"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # SIGTERM (kill, a CI's timeout) unwinds like Ctrl-C: locust and the portal are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    levels = [int(u) for u in args.users.split(",") if u.strip()]
    where = machine()
    image = _image_size(args.scale, args.crop)
    started = datetime.datetime.now(datetime.UTC)
    rows: list[Row] = []
    failures: dict[int, list[str]] = {}
    cpu: dict[int, tuple[float, float]] = {}
    in_worker: dict[int, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="load-portal-") as scratch:
        home = Path(scratch)
        logger.info("starting the portal with %d gunicorn workers...", args.workers)
        process, url, log = _start_portal(home, args.workers)
        try:
            password = (home / "var" / "demo_password").read_text().strip()
            token = _token(url, password)
            if args.warmup > 0:
                logger.info("warm-up: %d users for %d s (not counted)", args.workers, args.warmup)
                warm, _ = _locust(url, token, args.workers, args.warmup, home / "warmup", args)
                logger.info("warm-up: %d requests, %d failures", warm[-1].requests,
                            warm[-1].failures)  # fmt: skip
            for users in levels:
                logger.info("%d users for %d s...", users, args.duration)
                meter = CpuShare(process.pid)
                before = len(worker_ms(log))
                these, failed = _locust(url, token, users, args.duration, home / f"u{users}",
                                        args)  # fmt: skip
                cpu[users] = meter.cores()
                in_worker[users] = worker_ms(log)[before:]
                rows.extend(these)
                if failed:
                    failures[users] = failed
                total = these[-1]
                logger.info("%d users: %d requests, %d failures, p50 %s ms, p95 %s ms, %.2f req/s",
                            users, total.requests, total.failures, _ms(total.p50_ms),
                            _ms(total.p95_ms), total.throughput_rps)  # fmt: skip
        finally:
            _stop_portal(process)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                for path in [log, *home.glob("*.csv"), *home.glob("*.log")]:
                    shutil.copy2(path, args.keep / path.name)
        trouble = _portal_trouble(log)
    print()
    print(f"portal load, {started:%Y-%m-%d %H:%M} UTC: {image}, {args.workers} gunicorn workers, "
          f"{args.duration} s per concurrency")  # fmt: skip
    print(f"machine: {where['cpu']}, {where['cores']} cores, {where['memory_gib']} GiB, "
          f"GPU {where['gpu']}")  # fmt: skip
    print()
    print(_table(rows))
    print("\nPOST /api/predictions/ inside a gunicorn worker (access log; no queueing):")
    for users, times in in_worker.items():
        print(f"  {users} users: {len(times)} requests, p50 {_ms(_percentile(times, 0.5))} ms, "
              f"p95 {_ms(_percentile(times, 0.95))} ms")  # fmt: skip
    print(f"\nCPU, average cores over each run (of {where['cores']}):")
    for users, (mine, others) in cpu.items():
        print(f"  {users} users: portal and locust {mine:.2f}, other processes {others:.2f}")
    for users, failed in failures.items():
        print(f"\nfailures at {users} users:")
        for line in failed:
            print(f"  {line}")
    print("\nportal log: " + ", ".join(f"{n} {what}" for what, n in trouble.items()))
    if args.json:
        figures = {"date": started.isoformat(timespec="seconds"), "machine": where,
                   "workers": args.workers, "image": image, "duration_s": args.duration,
                   "portal_log": trouble, "failures": failures,
                   "in_worker_ms": {u: {"requests": len(t), "p50": _percentile(t, 0.5),
                                        "p95": _percentile(t, 0.95)}
                                    for u, t in in_worker.items()},
                   "cpu_cores": {u: {"portal_and_locust": round(m, 2), "others": round(o, 2)}
                                 for u, (m, o) in cpu.items()},
                   "rows": [asdict(row) for row in rows]}  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if any(row.failures for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
