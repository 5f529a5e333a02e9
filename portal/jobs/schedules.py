"""The django-q2 schedules continuous training and monitoring run on, made idempotently.

``seed_demo`` and ``manage.py schedules`` call :func:`ensure_schedules`; the
rows are django-q2's own :class:`~django_q.models.Schedule`, so the admin's
"Scheduled tasks" page shows and edits them, and the cluster runs them.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

__all__ = ["SCHEDULES", "ensure_schedules"]

#: name -> (task, schedule type, minutes between runs for MINUTES).
SCHEDULES: dict[str, tuple[str, str, int | None]] = {
    "visionkit-weekly-retraining": ("portal.jobs.retraining.weekly", "W", None),
    "visionkit-monitoring-checks": ("portal.monitoring.checks.run_checks", "H", None),
}


def ensure_schedules() -> list[str]:
    """Create the schedules that do not exist yet; the names created."""
    from django_q.models import Schedule

    created = []
    for name, (func, kind, minutes) in SCHEDULES.items():
        if Schedule.objects.filter(name=name).exists():
            continue
        Schedule.objects.create(
            name=name, func=func, schedule_type=kind, minutes=minutes, repeats=-1,
            next_run=timezone.now() + timedelta(minutes=5),
        )  # fmt: skip
        created.append(name)
    return created
