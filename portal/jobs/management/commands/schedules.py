"""``manage.py schedules``: create the weekly retraining and hourly monitoring schedules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.jobs.schedules import SCHEDULES, ensure_schedules


class Command(BaseCommand):
    help = "Create django-q2 schedules for continuous training and monitoring (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = ensure_schedules()
        for name in SCHEDULES:
            self.stdout.write(f"{name}: {'created' if name in created else 'exists'}")
