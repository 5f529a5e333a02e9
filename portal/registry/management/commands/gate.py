"""``manage.py gate MODEL``: gate a candidate against production on the held-out set, here."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.accounts.permissions import Capability
from portal.common.commands import add_user_option, command_error, resolve_user
from portal.common.errors import PortalError
from portal.jobs.models import Job
from portal.jobs.tasks import run_job
from portal.registry.gates import submit_gate
from portal.serving.router import resolve_reference


class Command(BaseCommand):
    help = "Evaluate a candidate and production on the held-out set and compare them (the gate)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", help="the candidate: an id, name:version or name@staging")
        add_user_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_user(options["user"], Capability.RUN_JOBS)
        try:
            candidate = resolve_reference(options["model"])
            job = submit_gate(candidate=candidate, user=user)
        except PortalError as exc:
            raise command_error(exc) from exc
        Job.objects.filter(pk=job.pk).update(task_id="manage.py gate")
        run_job(job.pk)
        job.refresh_from_db()
        if job.status != "succeeded":
            raise command_error(PortalError(f"gate job {job.pk} {job.status}: {job.error}"))
        for row in job.result["comparison"]:
            verdict = "pass" if row["passed"] else "FAIL"
            self.stdout.write(f"{row['metric']:>16}  {row['candidate']}  vs  {row['production']}"
                              f"  {verdict} ({row['why']})")  # fmt: skip
        self.stdout.write(f"gate {'passed' if job.result['passed'] else 'failed'} (job {job.pk})")
