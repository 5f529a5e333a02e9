"""The django-q2 task that runs a job: it takes the job's primary key, nothing else.

The row is re-read under ``select_for_update`` so two deliveries of one task
cannot both start it; a job that is no longer queued (cancelled meanwhile,
or taken) is left alone. The job then runs in this worker with a heartbeat
and ends ``succeeded``, ``failed`` (with the reason a user can act on; the
traceback goes to the log) or ``cancelled``: never left ``running``.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.jobs.context import JobCancelled, JobContext
from portal.jobs.models import Job, Status
from portal.jobs.runners import HandedOff, runner_for
from portal.jobs.services import finish_job
from portal.telemetry.metrics import observe_job
from visionkit.tracing import span

__all__ = ["run_job", "worker_id"]

logger = logging.getLogger(__name__)


def worker_id() -> str:
    """``host:pid`` of this process, as the reaper reads it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _start(job_id: int) -> Job | None:
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(of=("self",))
            .select_related("dataset", "model_version", "created_by")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status != Status.QUEUED:
            logger.info("job %s is %s; not starting it", job_id, job.status if job else "gone")
            return None
        now = timezone.now()
        job.status = Status.RUNNING
        job.worker = worker_id()
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["status", "worker", "started_at", "heartbeat_at"])
    return job


def _failure(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, ValueError) else text


def run_job(job_id: int) -> None:
    """Run the job ``job_id`` in this process (a django-q2 worker, or a command)."""
    job = _start(job_id)
    if job is None:
        return
    heartbeat = not settings.Q_CLUSTER.get("sync", False)
    logger.info("job %s (%s) started on %s", job.pk, job.kind, job.worker)
    with JobContext(job, heartbeat=heartbeat) as ctx:
        try:
            with span("portal.job", job_id=job.pk, kind=job.kind):
                result = runner_for(job.kind)(job, ctx)
        except HandedOff as handed:  # its other tasks end it (a batch's shards)
            logger.info("%s", handed)
            return
        except JobCancelled:
            error = Job.objects.filter(pk=job.pk).values_list("error", flat=True).first()
            ctx.log("cancelled")
            finish_job(job=job, status=Status.CANCELLED, error=error or "cancelled",
                       log_tail=ctx.tail())  # fmt: skip
            observe_job(job)
            logger.info("job %s cancelled", job.pk)
            return
        except Exception as exc:
            logger.error("job %s failed:\n%s", job.pk, traceback.format_exc())
            ctx.log(f"failed: {_failure(exc)}")
            finish_job(job=job, status=Status.FAILED, error=_failure(exc), log_tail=ctx.tail())
            observe_job(job)
            return
        ctx.log("succeeded")
        finish_job(job=job, status=Status.SUCCEEDED, result=result, log_tail=ctx.tail())
        observe_job(job)
        logger.info("job %s succeeded", job.pk)
