"""What ``manage.py train`` and ``manage.py evaluate`` share: data set options and running a job.

A command records its job exactly as ``POST /api/jobs/`` does, then runs it
in this process (progress and log lines reach the job's row as they do in a
worker, so the API and the pages show it moving) or, with ``--queue``, hands
it to the ``qcluster`` worker and returns at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.models import User
from portal.common.commands import add_user_option, command_error, parameters_from
from portal.common.errors import PortalError
from portal.datasets import selectors as dataset_selectors
from portal.datasets.models import DatasetVersion
from portal.jobs import services
from portal.jobs.models import Job, Status
from portal.registry.models import ModelVersion

__all__ = ["JobCommand"]


class JobCommand(BaseCommand):
    """A command that submits one job of :attr:`kind` and runs it or queues it."""

    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        data = parser.add_mutually_exclusive_group(required=True)
        data.add_argument("--dataset", help="a stored data set: its id or version (prefix)")
        data.add_argument(
            "--data",
            help="a local folder in the Hades mask convention (stored as a data set first)",
        )
        parser.add_argument("--config", help="a YAML or JSON file of job parameters")
        parser.add_argument(
            "--set", action="append", metavar="KEY=VALUE", dest="assignments",
            help="one parameter (repeatable); values are read as JSON when they can be",
        )  # fmt: skip
        parser.add_argument(
            "--queue", action="store_true",
            help="hand the job to the qcluster worker instead of running it here",
        )  # fmt: skip
        add_user_option(parser)

    def dataset(self, options: dict[str, Any], user: User | None) -> DatasetVersion:
        """The data set named by ``--dataset``, or ``--data`` stored as one."""
        if options["dataset"]:
            found = dataset_selectors.find(options["dataset"])
            if found is None:
                raise CommandError(
                    f"no single data set matches {options['dataset']!r}; "
                    "give its id or a longer version prefix (GET /api/datasets/)"
                )
            return found
        from portal.datasets.services import create_dataset_from_folder

        try:
            dataset, created = create_dataset_from_folder(
                folder=options["data"], name=str(options["data"]).rstrip("/").rsplit("/", 1)[-1],
                user=user,
            )  # fmt: skip
        except PortalError as exc:
            raise command_error(exc) from exc
        said = "stored" if created else "already stored"
        self.stderr.write(f"data set {dataset.version[:12]} {said} (id {dataset.pk})")
        return dataset

    def submit_and_run(
        self,
        options: dict[str, Any],
        *,
        user: User | None,
        dataset: DatasetVersion,
        model_version: ModelVersion | None = None,
    ) -> Job:
        """Submit the job, then run it here (or queue it); prints where it ended."""
        from portal.jobs.tasks import run_job

        params = parameters_from(options["config"], options["assignments"])
        try:
            job = services.submit_job(
                kind=self.kind, user=user, dataset=dataset, model_version=model_version,
                parameters=params, queue=bool(options["queue"]),
            )  # fmt: skip
        except PortalError as exc:
            raise command_error(exc) from exc
        if options["queue"]:
            self.stdout.write(f"job {job.pk} queued; follow it with GET /api/jobs/{job.pk}/")
            return job
        logging.getLogger("visionkit").setLevel(logging.INFO)
        self.stderr.write(f"job {job.pk} ({self.kind}) running here")
        run_job(job.pk)
        job.refresh_from_db()
        if job.status != Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.status}: {job.error}")
        return job
