"""Submit jobs to Azure ML, follow them, fetch their outputs and register their models.

:class:`AzureMLBackend` works through an ``MLClient`` (or anything with the
same ``jobs`` and ``models`` methods, as the tests' fake), so all of this
runs against a fake in tests and against a workspace otherwise. It uses
exactly: ``jobs.create_or_update``, ``jobs.get``, ``jobs.begin_cancel``,
``jobs.download`` and ``models.create_or_update``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visionkit.azureml import AzureMLError

__all__ = ["FAILED", "FINAL", "AzureMLBackend", "Finished", "find_model_folder"]

logger = logging.getLogger(__name__)

#: Azure ML job statuses that do not change any more.
FINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
#: The final statuses that are not a success.
FAILED = FINAL - {"Completed"}


@dataclass(frozen=True)
class Finished:
    """How a job ended: its name, final status, wall seconds from submission, studio link."""

    name: str
    status: str
    seconds: float
    studio_url: str = ""


def find_model_folder(folder: Path) -> Path:
    """The model folder in a downloaded training run: ``best/``, else ``last/``.

    Raises:
        AzureMLError: neither holds a ``config.json``.
    """
    for candidate in ("best", "last"):
        for found in sorted(folder.rglob(f"{candidate}/config.json")):
            return found.parent
    raise AzureMLError(f"the job's run output in {folder} holds no best/ or last/ model folder")


class AzureMLBackend:
    """Submit, follow, download and register through ``client`` (an ``MLClient``).

    Args:
        client: an ``azure.ai.ml.MLClient`` or an object with its methods.
        poll_s: seconds between two status reads while waiting.
        clock: monotonic clock (tests may speed it up).
        sleep: how to wait between polls.
    """

    def __init__(
        self,
        client: Any,
        *,
        poll_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep
        self._submitted: dict[str, float] = {}

    def load(self, path: Path) -> Any:
        """The job entity in the spec file ``path``, checked by the SDK.

        Raises:
            AzureMLError: the SDK refuses the spec.
        """
        from visionkit.azureml.files import load_spec

        return load_spec(path)

    def submit(self, job: Any, *, experiment: str | None = None) -> str:
        """Create the job in the workspace; its name."""
        created = self.client.jobs.create_or_update(job, experiment_name=experiment)
        name = str(created.name)
        self._submitted[name] = self.clock()
        logger.info("submitted Azure ML job %s (%s)", name, getattr(created, "studio_url", ""))
        return name

    def wait(
        self,
        name: str,
        *,
        timeout_s: float | None = None,
        on_poll: Callable[[str], None] | None = None,
    ) -> Finished:
        """Poll ``name`` until it ends; ``on_poll(status)`` after each read (it may raise
        to stop waiting, e.g. a cancelled portal job, and the Azure job is cancelled).

        Raises:
            AzureMLError: it did not end within ``timeout_s`` (it is cancelled).
        """
        started = self._submitted.get(name, self.clock())
        while True:
            job = self.client.jobs.get(name)
            status = str(job.status)
            if status in FINAL:
                seconds = self.clock() - started
                logger.info("Azure ML job %s %s after %.0f s", name, status, seconds)
                return Finished(name, status, seconds, str(getattr(job, "studio_url", "") or ""))
            if on_poll is not None:
                try:
                    on_poll(status)
                except BaseException:
                    self.cancel(name)
                    raise
            if timeout_s is not None and self.clock() - started > timeout_s:
                self.cancel(name)
                raise AzureMLError(f"Azure ML job {name} still {status} after {timeout_s:.0f} s;"
                                   " cancelled it")  # fmt: skip
            self.sleep(self.poll_s)

    def run(
        self,
        spec: Path,
        *,
        experiment: str | None = None,
        on_poll: Callable[[str], None] | None = None,
    ) -> Finished:
        """Load ``spec``, submit it, wait for it to end; what :meth:`wait` says.

        Raises:
            AzureMLError: the spec is refused, or the job failed or was cancelled
                (the message names it and its studio URL).
        """
        name = self.submit(self.load(spec), experiment=experiment)
        if on_poll is not None:
            on_poll("submitted")
        finished = self.wait(name, on_poll=on_poll)
        if finished.status in FAILED:
            raise AzureMLError(f"Azure ML job {name} {finished.status}: {finished.studio_url}")
        return finished

    def cancel(self, name: str) -> None:
        """Ask the workspace to cancel ``name`` (logged, never raised: it may be over)."""
        try:
            self.client.jobs.begin_cancel(name)
        except Exception as exc:
            logger.warning("could not cancel Azure ML job %s: %s", name, exc)

    def download(self, name: str, target: Path, *, output: str = "run") -> Path:
        """Download the job's named ``output`` under ``target``; the folder holding it."""
        target.mkdir(parents=True, exist_ok=True)
        self.client.jobs.download(name, download_path=str(target), output_name=output)
        folder = target / "named-outputs" / output
        return folder if folder.is_dir() else target

    def register_model(
        self, folder: Path, *, name: str, version: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Any:  # fmt: skip
        """Register ``folder`` as a custom model in the workspace (for parallel jobs' input)."""
        from azure.ai.ml.constants import AssetTypes
        from azure.ai.ml.entities import Model

        model = Model(path=str(folder), name=name, version=version, type=AssetTypes.CUSTOM_MODEL,
                      tags=dict(tags or {}), description="a visionkit model folder")  # fmt: skip
        return self.client.models.create_or_update(model)
