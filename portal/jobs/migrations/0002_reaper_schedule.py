"""The reaper on django-q2's scheduler: every minute, so no job stays "running" for a dead worker."""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME = "visionkit: reap jobs of dead workers"


def add_schedule(apps: Any, schema_editor: Any) -> None:
    schedule = apps.get_model("django_q", "Schedule")
    schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "portal.jobs.reaper.reap", "schedule_type": "I", "minutes": 1,
                  "repeats": -1},
    )  # fmt: skip


def remove_schedule(apps: Any, schema_editor: Any) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
