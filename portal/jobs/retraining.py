"""Continuous training: retrain on a schedule, on a new labelled data set version, or on reviews.

Three triggers start the same run (:func:`retrain`): the weekly django-q2
schedule (:mod:`portal.jobs.schedules`), a new version of the training data
set (name ``VISIONKIT_TRAINING_DATASET``, when ``VISIONKIT_RETRAIN_ON_DATASET``),
and ``VISIONKIT_RETRAIN_REVIEWED_TIPS`` tips reviewed since the last run
(0 turns it off). A run trains on the latest training data set version with
``VISIONKIT_RETRAIN_PARAMETERS``, fine-tuning from the production version
unless they say ``"fine_tune": false``; its candidate is registered, gated on
the held-out set and, if it passes, staged; approvers are told. Nothing goes
to production without one of them. One retraining at a time: a trigger
while one is queued or running is noted and skipped.

Reviewed tips are points, not masks, so they do not become segmentation
labels here: they trigger the run and measure it (live accuracy).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.jobs.models import Job, Kind, Status, Trigger

__all__ = ["on_dataset", "on_review", "policy", "retrain", "reviewed_since_last"]

logger = logging.getLogger(__name__)

_ACTIVE = (Status.QUEUED, Status.RUNNING)
_AUTOMATIC = (Trigger.SCHEDULE, Trigger.DATASET, Trigger.REVIEWS)


def _parameters() -> tuple[dict[str, Any], bool]:
    try:
        params = json.loads(settings.VISIONKIT_RETRAIN_PARAMETERS or "{}")
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"VISIONKIT_RETRAIN_PARAMETERS is not JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise ImproperlyConfigured("VISIONKIT_RETRAIN_PARAMETERS must be a JSON object")
    fine_tune = bool(params.pop("fine_tune", True))
    return params, fine_tune


def _last_run() -> Job | None:
    return Job.objects.filter(kind=Kind.TRAIN, trigger__in=_AUTOMATIC).first()


def reviewed_since_last() -> int:
    """Tips reviewed since the last automatic training run started (or ever)."""
    from portal.predictions.models import TipLabel

    last = _last_run()
    labels = TipLabel.objects.all()
    if last is not None:
        labels = labels.filter(review__created_at__gt=last.created_at)
    return labels.count()


def policy() -> dict[str, Any]:
    """The configured triggers and where they stand (the pages show it)."""
    from django_q.models import Schedule

    params, fine_tune = _parameters()
    weekly = Schedule.objects.filter(name="visionkit-weekly-retraining").first()
    return {
        "training_dataset": settings.VISIONKIT_TRAINING_DATASET,
        "holdout_dataset": settings.VISIONKIT_HOLDOUT_DATASET,
        "on_dataset": settings.VISIONKIT_RETRAIN_ON_DATASET,
        "reviewed_tips": settings.VISIONKIT_RETRAIN_REVIEWED_TIPS,
        "reviewed_since_last": reviewed_since_last(),
        "parameters": params,
        "parameters_json": json.dumps(params),
        "fine_tune": fine_tune,
        "weekly_next": weekly.next_run if weekly else None,
        "last_run": _last_run(),
    }


def retrain(*, trigger: str, reason: str, dataset: Any = None) -> Job | None:
    """Queue one retraining run; ``None`` when one is already queued or running, or no data."""
    from portal.datasets.models import DatasetVersion
    from portal.jobs.services import submit_job
    from portal.predictions.loader import production_version

    busy = Job.objects.filter(kind=Kind.TRAIN, trigger__in=_AUTOMATIC, status__in=_ACTIVE).first()
    if busy is not None:
        logger.info("retraining (%s) skipped: job %s is %s", trigger, busy.pk, busy.status)
        return None
    if dataset is None:
        dataset = (
            DatasetVersion.objects.filter(name=settings.VISIONKIT_TRAINING_DATASET)
            .order_by("-created_at", "-id")
            .first()
        )
    if dataset is None:
        logger.info("retraining (%s) skipped: no data set named %r", trigger,
                    settings.VISIONKIT_TRAINING_DATASET)  # fmt: skip
        return None
    params, fine_tune = _parameters()
    production = production_version()
    extra = {"fine_tune_from": production.pk} if fine_tune and production is not None else {}
    job = submit_job(
        kind=Kind.TRAIN, user=None, dataset=dataset, parameters=params, trigger=trigger,
        reason=reason, portal_parameters=extra,
    )  # fmt: skip
    logger.info("retraining job %s queued (%s: %s)", job.pk, trigger, reason)
    return job


def on_dataset(dataset: Any) -> Job | None:
    """A new data set version was stored: retrain if it is the training set and that is on."""
    if not settings.VISIONKIT_RETRAIN_ON_DATASET:
        return None
    if dataset.name != settings.VISIONKIT_TRAINING_DATASET:
        return None
    reason = f"new version {dataset.version[:12]} of data set {dataset.name}"
    return retrain(trigger=Trigger.DATASET, dataset=dataset, reason=reason)


def on_review() -> Job | None:
    """A review was saved: retrain when enough tips were reviewed since the last run."""
    needed = int(settings.VISIONKIT_RETRAIN_REVIEWED_TIPS)
    if needed <= 0:
        return None
    count = reviewed_since_last()
    if count < needed:
        return None
    return retrain(trigger=Trigger.REVIEWS, reason=f"{count} tips reviewed since the last run")


def weekly() -> Job | None:
    """The weekly schedule's task."""
    return retrain(trigger=Trigger.SCHEDULE, reason="weekly retraining")
