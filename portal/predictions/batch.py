"""The ``predict`` job: a stored batch split into shards that several django-q2 workers share.

The job's own task (:func:`run_batch`) only splits: it writes one
:class:`~portal.predictions.models.BatchItem` per image, queues one task
:func:`run_chunk` per ``VISIONKIT_BATCH_CHUNK`` plates and hands the job over
(:class:`~portal.jobs.runners.HandedOff`), so the job is no longer tied to one
worker. Each shard claims plates one at a time (:mod:`portal.predictions.claims`),
its own first and then any plate left free, so a shard whose task was lost
with its worker is redone by whoever is still working; only its unfinished
plates are redone, and a plate's prediction is unique per (job, file).

The job's progress is the share of plates finished; the shard that finishes
the last plate ends the job. A bad image is marked failed and named, never
fatal: a batch of a hundred plates with one corrupt file gives ninety-nine
predictions, and the job's ``error`` lists the failed plate. When every plate
failed the job fails.

Recovery when no shard is left running (every worker of the batch died):
:func:`recover_batches`, called by the reaper, frees the claims of dead
workers and queues the shards that still have plates.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from portal.common.errors import PortalError
from portal.common.storage import remove_files
from portal.jobs.models import Job, Kind, Status
from portal.jobs.runners import HandedOff
from portal.predictions import claims
from portal.predictions.models import BatchItem, ItemStatus, Prediction, Source
from portal.predictions.services import IMAGE_SUFFIXES, create_prediction

if TYPE_CHECKING:
    from portal.jobs.context import JobContext

__all__ = ["CHUNK_TASK", "SHARDED", "recover_batches", "run_batch", "run_chunk"]

logger = logging.getLogger(__name__)

#: The django-q2 task of one shard.
CHUNK_TASK = "portal.predictions.batch.run_chunk"
#: ``Job.worker`` of a batch handed over to its shards (no single worker runs it).
SHARDED = "shards"
#: Log lines the finished job keeps.
_LOG_LINES = 200


def _names(prefix: str) -> list[str]:
    storage = storages["default"]
    _, files = storage.listdir(prefix)
    return sorted(
        f"{prefix}/{name}" for name in files if PurePath(name).suffix.lower() in IMAGE_SUFFIXES
    )


def _shown(stored: str) -> str:
    """The uploaded name of a stored batch file (``00003-plate.png`` -> ``plate.png``)."""
    base = PurePath(stored).name
    head, _, rest = base.partition("-")
    return rest if head.isdigit() and rest else base


def _trace_context() -> dict[str, str]:
    """The current span as W3C ``traceparent`` headers, for a task queued from it."""
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def _enqueue(job_id: int, chunk: int, trace: dict[str, str] | None = None) -> None:
    from django_q.tasks import async_task

    async_task(CHUNK_TASK, job_id, chunk, trace or {}, task_name=f"job-{job_id}-shard-{chunk}",
               group="visionkit-jobs")  # fmt: skip


def run_batch(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Split the batch under ``job.inputs`` into shards, queue them and hand the job over.

    Raises:
        PortalError: the batch holds no images.
        HandedOff: always, once the shards are queued (the last shard ends the job).
    """
    names = _names(job.inputs)
    if not names:
        raise PortalError(f"the batch {job.inputs} holds no images")
    size = int(settings.VISIONKIT_BATCH_CHUNK)
    chunks = (len(names) + size - 1) // size
    ctx.log(f"{len(names)} images in {chunks} shard(s) of up to {size} (VISIONKIT_BATCH_CHUNK)")
    ctx.flush(force=True)
    with transaction.atomic():
        BatchItem.objects.bulk_create(
            BatchItem(job=job, key=key, name=_shown(key), chunk=index // size)
            for index, key in enumerate(names)
        )
        Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            worker=SHARDED, heartbeat_at=timezone.now()
        )
        # Each shard's span continues the job's trace, though it runs in another worker.
        trace = _trace_context()
        for chunk in range(chunks):
            transaction.on_commit(lambda chunk=chunk: _enqueue(job.pk, chunk, trace))  # type: ignore[misc]
    raise HandedOff(f"job {job.pk}: {len(names)} images queued in {chunks} shard(s)")


def _predict(job: Job, item: BatchItem) -> None:
    """Predict one claimed plate and mark it done or failed."""
    params = job.parameters or {}
    try:
        with storages["default"].open(item.key, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        claims.fail(item, "the batch's copy of this image is gone")
        return
    try:
        row = create_prediction(
            image=data, image_name=item.name, user=job.created_by,
            model_version=job.model_version, calibration=params.get("calibration") or None,
            tta=bool(params.get("tta", False)), source=Source.BATCH, job=job, batch_key=item.key,
        )  # fmt: skip
    except IntegrityError:
        # A worker that died after writing the prediction, before marking the plate done.
        row = Prediction.objects.get(job=job, batch_key=item.key)
        logger.info("job %s: %s was already predicted (%s)", job.pk, item.name, row.pk)
    except PortalError as exc:
        claims.fail(item, str(exc))
        logger.info("job %s: %s: skipped: %s", job.pk, item.name, exc)
        return
    except Exception as exc:  # one plate's surprise must not stall the batch
        logger.error("job %s: %s failed:\n%s", job.pk, item.name, traceback.format_exc())
        claims.fail(item, f"{type(exc).__name__}: {exc}")
        return
    if not claims.complete(item, row):
        logger.warning("job %s: %s was taken over by another worker meanwhile", job.pk, item.name)


def _counts(job_id: int) -> dict[str, int]:
    rows = BatchItem.objects.filter(job_id=job_id).values("status").annotate(n=Count("pk"))
    return {row["status"]: int(row["n"]) for row in rows}


def _report(job_id: int) -> None:
    counts = _counts(job_id)
    total = sum(counts.values())
    finished = total - sum(counts.get(status, 0) for status in claims.OPEN)
    Job.objects.filter(pk=job_id, status=Status.RUNNING).update(
        progress=finished / max(1, total), heartbeat_at=timezone.now()
    )


def run_chunk(job_id: int, chunk: int, trace: dict[str, str] | None = None) -> int:
    """The django-q2 task of one shard: claim and predict plates until none is free.

    Its own shard's plates come first, then any plate left free (a shard lost
    with its worker). Returns the plates this call predicted or failed. Its
    ``portal.batch_shard`` span is a child of the job's span when ``trace``
    carries the job's context (shards queued again by the reaper start a trace).
    """
    from opentelemetry import propagate
    from opentelemetry import trace as otel

    tracer = otel.get_tracer("portal.predictions.batch")
    attributes = {"visionkit.job_id": job_id, "visionkit.shard": chunk}
    parent = propagate.extract(dict(trace or {}))
    with tracer.start_as_current_span("portal.batch_shard", context=parent, attributes=attributes):
        return _run_chunk(job_id, chunk)


def _run_chunk(job_id: int, chunk: int) -> int:
    job = Job.objects.select_related("model_version", "created_by").filter(pk=job_id).first()
    if job is None or job.status != Status.RUNNING:
        logger.info("job %s is %s; shard %s has nothing to do", job_id,
                    job.status if job else "gone", chunk)  # fmt: skip
        return 0
    handled = 0
    while True:
        if Job.objects.filter(pk=job_id, cancel_requested=True).exists():
            BatchItem.objects.filter(job_id=job_id, status=ItemStatus.PENDING).update(
                status=ItemStatus.CANCELLED
            )
            break
        item = claims.claim_next(job_id, chunk=chunk)
        if item is None:
            break
        _predict(job, item)
        handled += 1
        _report(job_id)
    finish_if_complete(job)
    return handled


def _summary(items: list[BatchItem], tips: dict[int, tuple[int, int]]) -> list[str]:
    lines = []
    for item in items:
        if item.status == ItemStatus.DONE and item.prediction_id in tips:
            n_tips, n_plants = tips[item.prediction_id]
            lines.append(f"{item.name}: {n_tips}/{n_plants} tips")
        elif item.status == ItemStatus.FAILED:
            lines.append(f"{item.name}: skipped: {item.error}")
    return lines


def finish_if_complete(job: Job) -> bool:
    """End the job when no plate is open any more; ``True`` for the one call that ended it."""
    if BatchItem.objects.filter(job_id=job.pk, status__in=claims.OPEN).exists():
        return False
    items = list(BatchItem.objects.filter(job_id=job.pk).order_by("key"))
    made = [
        item.prediction_id
        for item in items
        if item.status == ItemStatus.DONE and item.prediction_id is not None
    ]
    tips = {
        row["pk"]: (row["n_tips"], row["n_plants"])
        for row in Prediction.objects.filter(pk__in=made).values("pk", "n_tips", "n_plants")
    }
    failed = {item.name: item.error for item in items if item.status == ItemStatus.FAILED}
    cancelled = sum(1 for item in items if item.status == ItemStatus.CANCELLED)
    row = Job.objects.filter(pk=job.pk).values("log_tail", "error", "cancel_requested").first()
    if row is None:
        return False
    lines = [*row["log_tail"].splitlines(), *_summary(items, tips)]
    changes: dict[str, Any] = {
        "result": {
            "images": len(items), "predicted": len(made), "failed": failed,
            "predictions": made, "cancelled": cancelled,
            "shards": len({item.chunk for item in items}),
            "workers": sorted({item.worker for item in items if item.worker}),
        },
        "finished_at": timezone.now(),
    }  # fmt: skip
    if row["cancel_requested"] and cancelled:
        changes["status"] = Status.CANCELLED
        changes["error"] = row["error"] or "cancelled"
        lines.append("cancelled")
    elif items and not made:
        changes["status"] = Status.FAILED
        changes["error"] = _failures(failed, len(items))
        lines.append(f"failed: {changes['error']}")
    else:
        changes["status"] = Status.SUCCEEDED
        changes["progress"] = 1.0
        if failed:
            changes["error"] = _failures(failed, len(items))
        lines.append("succeeded")
    changes["log_tail"] = "\n".join(lines[-_LOG_LINES:])
    if not Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(**changes):
        return False  # another shard ended it first
    remove_files([item.key for item in items])  # each prediction keeps its input
    from portal.telemetry.metrics import observe_job

    observe_job(job)
    logger.info("job %s %s: %d/%d images predicted", job.pk, changes["status"], len(made),
                len(items))  # fmt: skip
    return True


def _failures(failed: dict[str, str], total: int) -> str:
    shown = "; ".join(f"{name}: {error}" for name, error in list(failed.items())[:20])
    more = f" (and {len(failed) - 20} more)" if len(failed) > 20 else ""
    return f"{len(failed)} of {total} images failed: {shown}{more}"[:5000]


def recover_batches(now: dt.datetime | None = None) -> list[int]:
    """Queue again the shards of batches whose workers died; the ids of the jobs helped.

    A batch needs help when a dead worker held one of its plates, or when
    plates wait and no shard reported for ``VISIONKIT_JOB_STALE_S`` (their
    tasks were lost with the worker that had fetched them).
    """
    now = now or timezone.now()
    stale_before = now - claims.lease()
    helped: list[int] = []
    sharded = Job.objects.filter(kind=Kind.PREDICT, status=Status.RUNNING, worker=SHARDED)
    for job in sharded.only("pk", "kind", "heartbeat_at", "started_at"):
        released = claims.release_lost(job.pk, now)
        pending = sorted(set(
            BatchItem.objects.filter(job_id=job.pk, status=ItemStatus.PENDING)
            .values_list("chunk", flat=True)
        ))  # fmt: skip
        beat = job.heartbeat_at or job.started_at
        if not pending:
            finish_if_complete(job)  # every plate ended, but the last shard died ending the job
            continue
        if not released and beat is not None and beat >= stale_before:
            continue
        Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(heartbeat_at=now)
        for chunk in pending:
            _enqueue(job.pk, chunk)
        helped.append(job.pk)
        logger.warning("job %s: queued %d shard(s) again for its lost plates", job.pk,
                       len(pending))  # fmt: skip
    return helped
