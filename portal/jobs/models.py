"""Jobs: a row per training, evaluation or batch-prediction run, and what a worker reports.

A job is a row and a django-q2 task that takes its primary key
(:mod:`portal.jobs.tasks`). The worker moves the row from ``queued`` to
``running`` and on to ``succeeded``, ``failed`` or ``cancelled``, and while it
runs beats :attr:`Job.heartbeat_at` and writes :attr:`Job.progress` and
:attr:`Job.log_tail`. A worker that dies leaves a stale heartbeat (or a dead
process id) that the reaper turns into ``failed`` with the reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["Backend", "Job", "Kind", "Status", "Trigger"]


class Kind(models.TextChoices):
    """What a job does."""

    TRAIN = "train", "train"
    EVALUATE = "evaluate", "evaluate"
    PREDICT = "predict", "predict"
    GATE = "gate", "gate (candidate vs production on the held-out set)"


class Trigger(models.TextChoices):
    """Why a job was started: by a person, or by continuous training."""

    MANUAL = "manual", "by a person"
    SCHEDULE = "schedule", "weekly schedule"
    DATASET = "dataset", "new data set version"
    REVIEWS = "reviews", "new reviewed tips"
    PIPELINE = "pipeline", "the training pipeline"


class Status(models.TextChoices):
    """Where a job stands; the last three are final."""

    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class Backend(models.TextChoices):
    """Where a job runs: a django-q2 worker here, or (later) Azure Machine Learning."""

    LOCAL = "local", "local"


#: Statuses a job does not leave.
FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class Job(models.Model):
    """One queued piece of work and everything its worker reported."""

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    backend = models.CharField(max_length=20, choices=Backend.choices, default=Backend.LOCAL)
    parameters = models.JSONField(default=dict, blank=True, help_text="checked job parameters")
    dataset = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="jobs", help_text="the data trained or evaluated on",
    )  # fmt: skip
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="jobs", help_text="the model evaluated or predicted with",
    )  # fmt: skip
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    reason = models.CharField(max_length=300, blank=True, help_text="why it was started")
    inputs = models.CharField(
        max_length=300, blank=True, help_text="storage prefix of uploaded inputs (batch predict)"
    )
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    log_tail = models.TextField(blank=True, help_text="the last log lines of the run")
    result = models.JSONField(default=dict, blank=True)
    result_model = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="the candidate a training job registered",
    )  # fmt: skip
    error = models.TextField(blank=True, help_text="why it failed or was cancelled")
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True, help_text="django-q2's task id")
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="jobs_status_heartbeat")]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        """Whether the job has ended (succeeded, failed or cancelled)."""
        return self.status in FINAL_STATUSES
