"""``benchmarks/load_portal.py`` reads locust's figures right, and the locustfile judges answers.

The parser is checked on a stats CSV as locust writes it (a real headless run
of the project's locustfile, a few seconds long, with tiny plates) against a
stand-in server on a free port instead of the portal: one that answers as the
portal does (``201`` with plants) and one that answers ``201`` with none, which
the locustfile must count as failures. Starting the real portal for this would
take a minute; ``benchmarks/load_portal.py`` itself does that.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCUST = Path(sys.executable).with_name("locust")

pytestmark = pytest.mark.skipif(not LOCUST.is_file(), reason="locust is not installed")


def _load_portal() -> ModuleType:
    path = ROOT / "benchmarks" / "load_portal.py"
    spec = importlib.util.spec_from_file_location("load_portal", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


load_portal = _load_portal()


class StandIn:
    """A stand-in portal on a free port: its URL, and how many POSTs it has answered."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.posts = 0


def _server(plants: list[dict[str, int]]) -> Iterator[StandIn]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(0.4)  # a request is in flight when the run's time is up
            authorised = self.headers.get("Authorization") == "Token secret"
            self._answer(201 if authorised else 401, {"plants": plants})
            with lock:
                stand_in.posts += 1

        def do_GET(self) -> None:
            self._answer(200, {"count": 0, "results": []})

        def log_message(self, format: str, *args: object) -> None:
            pass

    lock = threading.Lock()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in = StandIn(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def portal_like() -> Iterator[StandIn]:
    yield from _server([{"id": 1}])


@pytest.fixture
def no_plants() -> Iterator[StandIn]:
    yield from _server([])


def _locust(host: str, prefix: Path) -> None:
    env = {**os.environ, "VISIONKIT_LOAD_TOKEN": "secret", "VISIONKIT_LOAD_SCALE": "0.05",
           "VISIONKIT_LOAD_PLATES": "2"}  # fmt: skip
    subprocess.run(
        [str(LOCUST), "-f", str(ROOT / "benchmarks" / "load" / "locustfile.py"), "--headless",
         "-u", "2", "-r", "2", "-t", "3s", "--stop-timeout", "10", "--host", host,
         "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def test_a_locust_run_is_read_back_per_request_with_the_total_last(
    portal_like: StandIn, tmp_path: Path
) -> None:
    _locust(portal_like.url, tmp_path / "u2")
    rows = load_portal.read_stats(tmp_path / "u2_stats.csv", users=2)
    by_name = {row.request: row for row in rows}
    assert rows[-1].request == "Aggregated"
    post = by_name["POST /api/predictions/"]
    assert post.requests > 5
    # the last requests, finished while the users stop, are in the CSV too
    assert post.requests == portal_like.posts
    assert post.failures == 0
    assert post.users == 2
    assert post.p50_ms is not None
    assert post.p95_ms is not None
    assert 0 <= post.p50_ms <= post.p95_ms
    assert post.throughput_rps > 0
    total = rows[-1]
    assert total.requests == sum(row.requests for row in rows[:-1])
    assert load_portal.read_failures(tmp_path / "u2_failures.csv") == []


def test_a_201_without_plants_counts_as_a_failure(no_plants: StandIn, tmp_path: Path) -> None:
    _locust(no_plants.url, tmp_path / "u2")
    rows = load_portal.read_stats(tmp_path / "u2_stats.csv", users=2)
    post = next(row for row in rows if row.request == "POST /api/predictions/")
    assert post.requests > 0
    assert post.failures == post.requests
    failures = load_portal.read_failures(tmp_path / "u2_failures.csv")
    assert len(failures) == 1
    assert "201 without plants" in failures[0]


def test_a_kind_of_request_with_no_answers_has_no_latency(tmp_path: Path) -> None:
    stats = tmp_path / "u1_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        ",Aggregated,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
    )
    (row,) = load_portal.read_stats(stats, users=1)
    assert (row.request, row.requests, row.p50_ms, row.p95_ms) == ("Aggregated", 0, None, None)


def test_the_time_in_a_worker_is_read_from_the_access_log_for_posts_only(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    log.write_text(
        '127.0.0.1 "POST /api/predictions/ HTTP/1.1" 201 2660 1612ms\n'
        "2026-12-06 22:09:33,445 INFO visionkit.trace: visionkit.read 89.0 ms\n"
        '127.0.0.1 "GET /api/predictions/?page_size=5 HTTP/1.1" 200 2706 14ms\n'
        '127.0.0.1 "POST /api/predictions/ HTTP/1.1" 400 120 35ms\n'
    )
    assert load_portal.worker_ms(log) == [1612, 35]
