"""Reads of the jobs app."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.jobs.models import Job, Status

__all__ = ["jobs", "running"]


def jobs() -> QuerySet[Job]:
    """Every job, newest first, with what it ran on joined."""
    return Job.objects.select_related("dataset", "model_version", "result_model", "created_by")


def running() -> QuerySet[Job]:
    """Jobs queued or running."""
    return jobs().filter(status__in=[Status.QUEUED, Status.RUNNING])
