"""Writes of the jobs app: submit a job, cancel one, and finish one (the worker's side).

:func:`submit_job` checks everything a job needs before it is queued (its
kind, backend, data set, model version and parameters), writes the row and
queues the django-q2 task ``portal.jobs.tasks.run_job(pk)`` when the
transaction commits, so a worker never looks for a row that is not there.
:func:`cancel_job` cancels a queued job at once and asks a running one to
stop; its worker sees the flag within a second or two and ends it as
``cancelled``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from portal.common.errors import Conflict, PortalError
from portal.jobs.estimates import azureml_missing, planned_cost
from portal.jobs.models import Backend, Job, Kind, Status
from portal.jobs.parameters import check_parameters

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.datasets.models import DatasetVersion
    from portal.registry.models import ModelVersion

__all__ = ["cancel_job", "finish_job", "submit_job"]

logger = logging.getLogger(__name__)

TASK = "portal.jobs.tasks.run_job"


def _model_version(kind: str, model_version: ModelVersion | None) -> ModelVersion | None:
    if kind == Kind.TRAIN:
        return model_version
    if kind == Kind.GATE and model_version is None:
        raise PortalError("a gate job needs the candidate: name its model version")
    if model_version is not None:
        return model_version
    from portal.predictions.loader import production_version

    production = production_version()
    if production is None:
        raise PortalError(
            f"a {kind} job needs a model: name one, or promote a version to production"
        )
    return production


@transaction.atomic
def submit_job(
    *,
    kind: str,
    user: User | None,
    dataset: DatasetVersion | None = None,
    model_version: ModelVersion | None = None,
    parameters: dict[str, Any] | None = None,
    backend: str = Backend.LOCAL,
    inputs: str = "",
    queue: bool = True,
    trigger: str = "manual",
    reason: str = "",
    portal_parameters: dict[str, Any] | None = None,
) -> Job:
    """Check and record a job, and queue it for a worker once the transaction commits.

    ``queue=False`` records it without queueing, for a caller that runs it
    itself (``manage.py train``). ``trigger`` and ``reason`` say why it runs
    (continuous training sets them); ``portal_parameters`` are the portal's own
    keys (``fine_tune_from``), stored beside the user's checked ones. A
    training job's planned cost is stored in ``result["planned_cost"]`` now, so
    the job page can set it beside what the run cost.

    Raises:
        PortalError: an unknown kind or backend, a missing data set, model or
            inputs, or unknown or bad parameters (every unknown one named),
            or a training job whose cost cannot be planned (an unpriced VM size), or
            one for Azure ML where no workspace is configured.
    """
    if kind not in Kind.values:
        raise PortalError(f"unknown job kind {kind!r}; the kinds are: {', '.join(Kind.values)}")
    if backend not in Backend.values:
        raise PortalError(
            f"unknown backend {backend!r}; the backends here are: {', '.join(Backend.values)}"
        )
    if kind in (Kind.TRAIN, Kind.EVALUATE, Kind.GATE) and dataset is None:
        raise PortalError(f"a {kind} job needs a data set: give its id (GET /api/datasets/)")
    if kind == Kind.PREDICT and not inputs:
        raise PortalError("a predict job needs images: POST them to /api/predictions/batch/")
    checked = check_parameters(kind, parameters)
    planned = {"planned_cost": planned_cost(checked)} if kind == Kind.TRAIN else {}
    if (
        kind == Kind.TRAIN
        and checked.get("backend") == "azureml"
        and (missing := azureml_missing())
    ):
        raise PortalError("Azure ML is not configured here: set " + ", ".join(missing))
    job = Job.objects.create(
        kind=kind,
        backend=backend,
        dataset=dataset,
        model_version=_model_version(kind, model_version),
        parameters=checked | dict(portal_parameters or {}),
        inputs=inputs,
        trigger=trigger,
        reason=reason[:300],
        created_by=user,
        result=planned,
    )
    if queue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    logger.info("job %s (%s) submitted by %s", job.pk, kind, user)
    return job


def _enqueue(pk: int) -> None:
    from django_q.tasks import async_task

    task_id = async_task(TASK, pk, task_name=f"job-{pk}", group="visionkit-jobs")
    Job.objects.filter(pk=pk).update(task_id=str(task_id or "")[:64])


@transaction.atomic
def cancel_job(*, job: Job | int, user: User | None) -> Job:
    """Cancel a queued job now, or ask a running one to stop.

    Raises:
        Conflict: the job has already ended.
    """
    pk = job.pk if isinstance(job, Job) else job
    row = Job.objects.select_for_update().get(pk=pk)
    who = user.get_username() if user is not None else "someone"
    if row.is_final:
        raise Conflict(f"job {row.pk} already {row.status}; there is nothing to cancel")
    if row.status == Status.QUEUED:
        row.status = Status.CANCELLED
        row.finished_at = timezone.now()
        row.error = f"cancelled by {who} before it started"
    else:
        row.error = f"cancelled by {who}"
    row.cancel_requested = True
    row.save(update_fields=["status", "finished_at", "error", "cancel_requested"])
    logger.info("job %s: cancel asked by %s (%s)", row.pk, who, row.status)
    return row


def finish_job(
    *,
    job: Job,
    status: str,
    result: dict[str, Any] | None = None,
    error: str = "",
    log_tail: str | None = None,
) -> bool:
    """Record a running job's end; ``False`` when it was no longer running (reaped meanwhile)."""
    changes: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
    if result is not None:
        changes["result"] = result
    if status == Status.SUCCEEDED:
        changes["progress"] = 1.0
    if error:
        changes["error"] = error[:5000]
    if log_tail is not None:
        changes["log_tail"] = log_tail
    done = Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(**changes) == 1
    if not done:
        logger.warning("job %s ended as %s but was no longer running", job.pk, status)
    return done
