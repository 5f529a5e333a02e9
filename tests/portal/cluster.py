"""A real ``manage.py qcluster`` for tests: started on the test's database and storage.

The test process queues for real (not inline, as the other portal tests do), so
a job reaches the cluster through the broker: django-q2's ORM broker in the same
database, or Redis when ``VISIONKIT_REDIS_URL`` is set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django_q.conf import Conf

__all__ = ["redis_broker", "running_cluster", "wait_for"]

#: The Redis the two-worker tests use when ``VISIONKIT_REDIS_URL`` is not set (its own
#: database number, so a developer's queues are not touched).
TEST_REDIS_URL = os.environ.get("VISIONKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = quote(config.get("USER") or "")
    password = quote(config.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config.get("HOST") or "127.0.0.1"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{config['NAME']}"


def redis_broker(monkeypatch: pytest.MonkeyPatch) -> str:
    """Queue through Redis from this process; the URL to give the clusters.

    The configured ``VISIONKIT_REDIS_URL`` (``make test-scaled``), else
    :data:`TEST_REDIS_URL`. Skips, saying why, when that Redis does not answer;
    empties the cluster's queue first so no task of an earlier run is delivered.
    """
    import redis
    from django.conf import settings

    url = str(settings.REDIS_URL or TEST_REDIS_URL)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} does not answer ({exc}); start redis-server to run this")
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", url)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    from django_q.brokers import get_broker

    get_broker().purge_queue()
    return url


@contextlib.contextmanager
def running_cluster(
    media: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    log_name: str = "qcluster.log",
    **extra_env: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """A running ``manage.py qcluster`` with one worker, stopped (process group) at the end.

    ``extra_env`` are settings (``VISIONKIT_...``) the cluster's processes get.
    Its log is ``tmp_path / log_name``; give each cluster of a test its own.
    The cluster is its own process group (``os.killpg(process.pid, ...)``).
    """
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "VISIONKIT_Q_SYNC": "0",
        "VISIONKIT_Q_WORKERS": "1",
        "VISIONKIT_MEDIA_ROOT": str(media),
        "VISIONKIT_JOB_HEARTBEAT_S": "1",
        "VISIONKIT_JOB_TRACK": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "VISIONKIT_MLFLOW_ARTIFACTS": str(tmp_path / "mlartifacts"),
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    log = (tmp_path / log_name).open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        # SIGTERM to the sentinel only: it stops its workers itself (a few seconds);
        # then anything left of the group goes.
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()


def wait_for(what: str, check: Callable[[], bool], timeout: float, log: Path) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` s with the end of ``log``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")
