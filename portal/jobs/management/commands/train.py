"""``manage.py train --data FOLDER | --dataset REF [--set key=value]``: a recorded training job."""

from __future__ import annotations

from typing import Any

from portal.accounts.permissions import Capability
from portal.common.commands import resolve_user
from portal.jobs.commands import JobCommand


class Command(JobCommand):
    help = (
        "Train a model on a data set as a portal job (shown in the API and the pages); "
        "the model is registered as a candidate."
    )
    kind = "train"

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_user(options["user"], Capability.RUN_JOBS)
        job = self.submit_and_run(options, user=user, dataset=self.dataset(options, user))
        if options["queue"]:
            return
        result = job.result or {}
        version = job.result_model
        metric = result.get("best_metric")
        shown = f"{metric:.4f}" if isinstance(metric, int | float) else "n/a"
        self.stdout.write(
            f"job {job.pk} succeeded: {result.get('epochs_done')} epoch(s), best {shown} at epoch "
            f"{result.get('best_epoch')}; registered "
            + (f"{version.name} v{version.version} (id {version.pk}) as a candidate"
               if version is not None else "nothing")
        )  # fmt: skip
