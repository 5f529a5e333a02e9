"""``manage.py evaluate --model REF --data FOLDER | --dataset REF``: a recorded evaluation job."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from portal.accounts.permissions import Capability
from portal.common.commands import resolve_user
from portal.jobs.commands import JobCommand
from portal.registry import selectors


class Command(JobCommand):
    help = "Score a registered model on a data set as a portal job; prints the headline metrics."
    kind = "evaluate"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--model", default=None,
            help="the version: its id, name:version, or a name (its production version); "
            "default: the version in production",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_user(options["user"], Capability.RUN_JOBS)
        version = None
        if options["model"]:
            version = selectors.find(options["model"])
            if version is None:
                raise CommandError(f"no model version {options['model']!r}")
        job = self.submit_and_run(
            options, user=user, dataset=self.dataset(options, user), model_version=version
        )
        if options["queue"]:
            return
        result = job.result or {}
        headline = {key: result.get(key) for key in ("segmentation", "landmarks")}
        self.stdout.write(f"job {job.pk} succeeded; report in storage at "
                          f"{result.get('report_folder')}")  # fmt: skip
        self.stdout.write(json.dumps(headline, indent=2, default=str))
