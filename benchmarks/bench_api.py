"""Seconds per full Hades frame through the portal's API beside ``visionkit predict``, same frames.

The user paths, end to end:

- **command line**: ``visionkit predict FRAMES --out DIR`` (JSON contract and
  overlays, the defaults), run as a subprocess on one frame and on all of
  them; the marginal seconds per frame is the difference divided by the
  extra frames, so interpreter start-up and model loading cancel out.
- **API**: the portal started as ``make run`` starts it (``python -m
  portal.serve``: gunicorn with one worker, which loads the production model
  once, and the qcluster worker beside it; SQLite; the default model in
  production), then each frame POSTed to ``/api/predictions/`` with a token,
  one request at a time, over HTTP. After one warm-up request the marginal
  seconds per request is the median over all requests: upload, decode,
  prediction, storing the input, masks, overlay and the row, the answer.

Rounds alternate the two so both see the same load on a shared CPU. The
frames are synthetic 4202 x 3006 plates (``visionkit.synth``), written as PNG.
Printed: both medians, and the ratio API / command line (target: at most 1.2).

Run from the repository root::

    .venv/bin/python benchmarks/bench_api.py [--frames 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portal_process import free_port, portal_env

ROOT = Path(__file__).resolve().parents[1]
VISIONKIT = Path(sys.executable).with_name("visionkit")
TARGET = 1.2

logger = logging.getLogger("bench_api")


def _frames(folder: Path, n: int) -> list[Path]:
    from visionkit.synth import SynthConfig, generate_plate

    paths = []
    for index in range(n):
        plate = generate_plate(40, SynthConfig(), index=index)
        path = folder / (plate.name if plate.name.endswith(".png") else f"{plate.name}.png")
        cv2.imwrite(str(path), plate.image)
        paths.append(path)
    return paths


def _start_portal(home: Path) -> tuple[subprocess.Popen[str], str, str, Path]:
    port = free_port()
    env = portal_env(home, port)
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "portal.serve"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while "Ctrl-C stops" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the portal did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.5)
    found = re.search(r"password: (\S+)", log.read_text())
    assert found is not None
    return process, f"http://127.0.0.1:{port}/", found.group(1), log


def _token(url: str, password: str) -> str:
    credentials = {"username": "operator", "password": password}
    answer = requests.post(url + "api/auth/token/", data=credentials, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["token"])


def _post(url: str, token: str, frame: Path) -> float:
    with frame.open("rb") as handle:
        start = time.perf_counter()
        answer = requests.post(url + "api/predictions/",
                               headers={"Authorization": f"Token {token}"},
                               files={"image": (frame.name, handle, "image/png")},
                               timeout=300)  # fmt: skip
        took = time.perf_counter() - start
    if answer.status_code != 201:
        raise SystemExit(f"POST failed ({answer.status_code}): {answer.text[:500]}")
    return took


def _cli(frames: list[Path], out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(VISIONKIT), "predict", *map(str, frames), "--out", str(out)],
                   check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=4, help="full frames (at least 2)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    frames_n = max(2, args.frames)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as scratch:
        home = Path(scratch)
        (home / "frames").mkdir()
        frames = _frames(home / "frames", frames_n)
        logger.info("%d synthetic %dx%d frames", frames_n, *cv2.imread(str(frames[0])).shape[1::-1])
        process, url, password, _ = _start_portal(home)
        try:
            token = _token(url, password)
            _post(url, token, frames[0])  # warm-up: the first request of a worker
            cli_marginal: list[float] = []
            api: list[float] = []
            for round_ in range(args.rounds):
                one = _cli(frames[:1], home / f"cli-{round_}-1")
                many = _cli(frames, home / f"cli-{round_}-n")
                cli_marginal.append((many - one) / (frames_n - 1))
                api.extend(_post(url, token, frame) for frame in frames)
                shown = " ".join(f"{t:.2f}" for t in api[-frames_n:])
                logger.info("round %d: command line %.2f s/frame (1 frame %.1f s, %d frames "
                            "%.1f s); API %s s/request", round_ + 1, cli_marginal[-1], one,
                            frames_n, many, shown)  # fmt: skip
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)
    cli_s, api_s = statistics.median(cli_marginal), statistics.median(api)
    ratio = api_s / cli_s
    print(f"command line (visionkit predict): {cli_s:.2f} s per frame (marginal, median)")
    print(f"API (POST /api/predictions/):     {api_s:.2f} s per request (median)")
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"ratio API / command line: {ratio:.2f} ({verdict} the target {TARGET:.2f})")


if __name__ == "__main__":
    main()
