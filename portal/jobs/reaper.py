"""The reaper: running jobs whose worker died become ``failed`` with the reason.

A worker killed mid-job (SIGKILL, out of memory, a lost machine) cannot mark
its job. :func:`reap` finds such jobs two ways: the worker process named in
``Job.worker`` is on this host and no longer alive (or a zombie), or the
job's heartbeat is older than ``VISIONKIT_JOB_STALE_S``. It runs when a
django-q2 worker process starts (the cluster's start-up, and the respawn
that follows a killed worker), on a schedule every minute, and as
``manage.py reap_jobs``.

A batch-prediction job handed over to its shards (``Job.worker`` is
``shards``) is not failed: the plates its dead workers held are put back and
its shards queued again (:func:`portal.predictions.batch.recover_batches`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal.jobs.models import Job, Status

__all__ = ["pid_alive", "reap"]

logger = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _dead_worker(job: Job, host: str) -> str | None:
    name, _, pid = job.worker.rpartition(":")
    if name != host or not pid.isdigit() or pid_alive(int(pid)):
        return None
    return (
        f"the worker process {pid} on {host} died (killed or out of memory) while the job "
        "ran; start the job again"
    )


def reap(now: dt.datetime | None = None) -> list[int]:
    """Mark the running jobs whose worker is gone as failed; returns their ids."""
    now = now or timezone.now()
    stale_s = int(settings.VISIONKIT_JOB_STALE_S)
    stale_before = now - dt.timedelta(seconds=stale_s)
    host = socket.gethostname()
    reaped: list[int] = []
    from portal.predictions.batch import SHARDED, recover_batches

    running = Job.objects.filter(status=Status.RUNNING).exclude(worker=SHARDED)
    for job in running.only("pk", "worker", "heartbeat_at", "started_at"):
        reason = _dead_worker(job, host)
        beat = job.heartbeat_at or job.started_at
        if reason is None and beat is not None and beat < stale_before:
            reason = (
                f"no heartbeat from worker {job.worker or '?'} for over {stale_s} s; it "
                "stopped or lost its connection; start the job again"
            )
        if reason is None:
            continue
        changed = Job.objects.filter(Q(pk=job.pk), Q(status=Status.RUNNING)).update(
            status=Status.FAILED, error=reason, finished_at=now
        )
        if changed:
            reaped.append(job.pk)
            logger.warning("job %s failed: %s", job.pk, reason)
    recover_batches(now)  # a batch's shards are queued again, not failed
    return reaped


def reap_on_spawn(sender: object = None, **kwargs: object) -> None:
    """The receiver of django-q2's ``post_spawn``: reap as a worker process starts."""
    try:
        reap()
    except Exception:  # never stop a worker from starting
        logger.exception("reaping jobs at worker start failed")
