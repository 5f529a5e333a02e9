"""Claims on the plates of a sharded batch: each plate is held by one worker at a time.

A worker takes a plate with one conditional ``UPDATE ... WHERE status = 'pending'``
(or a claim whose lease ran out, or whose worker process on this host is dead);
the database lets exactly one such UPDATE change the row, on SQLite and on
PostgreSQL alike, so two workers, or two deliveries of the same shard, never
hold one plate together. The lease is ``VISIONKIT_JOB_STALE_S``: a worker on
another machine that vanished loses its plate when the lease ends; one on this
machine loses it at once (its process id is gone).

Claiming is only half of "exactly once": the plate's :class:`Prediction` is
unique per (job, file) in the database, so a worker killed after the prediction
was written but before the plate was marked done leaves a plate that the next
claimant finds already predicted (:func:`complete` links the existing row).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from portal.jobs.reaper import pid_alive
from portal.predictions.models import BatchItem, ItemStatus, Prediction

__all__ = ["OPEN", "claim_next", "complete", "fail", "lease", "release_lost", "worker_id"]

logger = logging.getLogger(__name__)

#: Statuses of a plate that is not finished yet.
OPEN = (ItemStatus.PENDING, ItemStatus.CLAIMED)
#: Plates looked at per claim attempt (the first free one is taken).
_WINDOW = 16


def worker_id() -> str:
    """``host:pid`` of this process, as claims and the reaper record it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease() -> dt.timedelta:
    """How long a claim holds without its worker finishing the plate."""
    return dt.timedelta(seconds=int(settings.VISIONKIT_JOB_STALE_S))


def _dead_here(worker: str, host: str) -> bool:
    name, _, pid = worker.rpartition(":")
    return name == host and pid.isdigit() and not pid_alive(int(pid))


def _lost_workers(job_id: int, now: dt.datetime) -> list[str]:
    """Workers on this host holding claims of ``job_id`` whose process is gone."""
    host = socket.gethostname()
    held = (
        BatchItem.objects.filter(job_id=job_id, status=ItemStatus.CLAIMED, lease_until__gte=now)
        .values_list("worker", flat=True)
        .distinct()
    )
    return [worker for worker in held if _dead_here(worker, host)]


def _claimable(job_id: int, now: dt.datetime) -> Q:
    lost = _lost_workers(job_id, now)
    free = Q(status=ItemStatus.PENDING) | Q(status=ItemStatus.CLAIMED, lease_until__lt=now)
    if lost:
        free |= Q(status=ItemStatus.CLAIMED, worker__in=lost)
    return free


def claim_next(
    job_id: int, *, chunk: int | None = None, now: dt.datetime | None = None
) -> BatchItem | None:
    """Claim one free plate of ``job_id`` for this process (its own ``chunk`` first); or ``None``.

    ``None`` means every plate is done, failed, or held by a live claim.
    """
    me = worker_id()
    while True:
        now = now or timezone.now()
        free = _claimable(job_id, now)
        candidates = BatchItem.objects.filter(Q(job_id=job_id) & free)
        if chunk is not None:
            mine = list(candidates.filter(chunk=chunk).values_list("pk", flat=True)[:_WINDOW])
            ids = mine or list(candidates.values_list("pk", flat=True)[:_WINDOW])
        else:
            ids = list(candidates.values_list("pk", flat=True)[:_WINDOW])
        if not ids:
            return None
        for pk in ids:
            won = BatchItem.objects.filter(Q(pk=pk) & free).update(
                status=ItemStatus.CLAIMED, worker=me, lease_until=now + lease(),
                attempts=F("attempts") + 1,
            )  # fmt: skip
            if won:
                item = BatchItem.objects.get(pk=pk)
                if item.attempts > 1:
                    logger.info("job %s: %s claimed again (attempt %d)", job_id, item.name,
                                item.attempts)  # fmt: skip
                return item
        now = None  # every candidate was taken meanwhile: look again


def complete(item: BatchItem, prediction: Prediction) -> bool:
    """Mark ``item`` done with its prediction; ``False`` when this process no longer held it."""
    return bool(
        BatchItem.objects.filter(pk=item.pk, status=ItemStatus.CLAIMED, worker=worker_id()).update(
            status=ItemStatus.DONE, prediction=prediction, error="", lease_until=None
        )
    )


def fail(item: BatchItem, error: str) -> bool:
    """Mark ``item`` failed with the reason a user can act on."""
    return bool(
        BatchItem.objects.filter(pk=item.pk, status=ItemStatus.CLAIMED, worker=worker_id()).update(
            status=ItemStatus.FAILED, error=error[:2000], lease_until=None
        )
    )


def release_lost(job_id: int, now: dt.datetime | None = None) -> int:
    """Put plates held by a dead local worker or an expired lease back to pending; how many."""
    now = now or timezone.now()
    lost = _lost_workers(job_id, now)
    gone = Q(status=ItemStatus.CLAIMED, lease_until__lt=now)
    if lost:
        gone |= Q(status=ItemStatus.CLAIMED, worker__in=lost)
    released = BatchItem.objects.filter(Q(job_id=job_id) & gone).update(
        status=ItemStatus.PENDING, worker="", lease_until=None
    )
    if released:
        logger.warning("job %s: %d plate(s) of a lost worker put back to pending", job_id,
                       released)  # fmt: skip
    return released
