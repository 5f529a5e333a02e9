"""``manage.py reap_jobs``: mark running jobs whose worker died as failed (also on a schedule)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.jobs.reaper import reap


class Command(BaseCommand):
    help = "Mark running jobs whose worker process died, or whose heartbeat is stale, as failed."

    def handle(self, *args: Any, **options: Any) -> None:
        reaped = reap()
        self.stdout.write(f"reaped {len(reaped)} job(s)" + (f": {reaped}" if reaped else ""))
