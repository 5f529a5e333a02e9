"""A stand-in for ``azure.ai.ml.MLClient`` that checks what it receives like the service.

:class:`FakeMLClient` offers exactly the methods
:class:`~visionkit.azureml.submit.AzureMLBackend` calls. What it is handed
must be the SDK's own entities: a job must be an ``azure.ai.ml.entities.Job``
that passes its ``_validate()``, serialises to the REST body the service
takes, whose ``_to_dict()`` dump loads again with ``load_job``, and whose
local code folder and local inputs exist (the real client uploads them); a
model must be an ``azure.ai.ml.entities.Model`` whose folder exists.
So a spec the service would refuse fails here too. Jobs move ``Queued`` ->
``Running`` -> the outcome over successive ``get`` calls; ``download``
writes what the ``outputs`` callable makes for the job into
``named-outputs/<output>/``, the SDK's layout.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["FakeJob", "FakeMLClient"]


@dataclass
class FakeJob:
    """What ``jobs.get`` answers: a name, a status, a studio URL and the entity submitted."""

    name: str
    status: str
    entity: Any
    studio_url: str = ""
    polls: int = 0


def _check_job(job: Any) -> None:
    from azure.ai.ml import load_job
    from azure.ai.ml.entities import Job

    if not isinstance(job, Job):
        raise TypeError(f"jobs.create_or_update needs an azure.ai.ml Job, not {type(job).__name__}")
    # A relative code path is relative to the spec's folder, as the real client reads it;
    # converting a command node to its job forgets that folder, so it is read first.
    base = Path(getattr(job, "base_path", None) or ".")
    job = job._to_job() if hasattr(job, "_to_job") else job  # a command node -> CommandJob
    check = getattr(job, "_validate", None)
    if check is not None:
        result = check()  # a CommandJob raises instead of returning a result
        if result is not None and not result.passed:
            raise ValueError(f"the job does not validate: {result.error_messages}")
    code = getattr(job, "code", None) or getattr(getattr(job, "trial", None), "code", None)
    if (
        isinstance(code, str)
        and not code.startswith(("azureml:", "http"))
        and not (base / code).is_dir()
    ):
        raise ValueError(f"the job's code folder {code} does not exist (from {base})")
    for key, value in (getattr(job, "inputs", None) or {}).items():
        path = getattr(value, "path", None)
        # An asset's path loses its azureml: prefix; a local one is uploaded, so must exist.
        if isinstance(path, str) and Path(path).is_absolute() and not Path(path).exists():
            raise ValueError(f"input {key}: local path {path} does not exist")
    # What the real client sends: the REST body of the job.
    body = job._to_rest_object().as_dict()
    if not body.get("properties", {}).get("jobType"):
        raise ValueError("the job's REST body has no job type")
    with tempfile.TemporaryDirectory() as scratch:
        dumped = Path(scratch) / "job.yml"
        dumped.write_text(yaml.safe_dump(json.loads(json.dumps(job._to_dict())), sort_keys=False))
        load_job(source=dumped)


@dataclass
class _Jobs:
    client: FakeMLClient

    def create_or_update(self, job: Any, *, experiment_name: str | None = None,
                         **_: Any) -> FakeJob:  # fmt: skip
        _check_job(job)
        self.client.count += 1
        name = f"fake-job-{self.client.count}"
        record = FakeJob(name=name, status="Queued", entity=job,
                         studio_url=f"https://ml.azure.com/runs/{name}")  # fmt: skip
        self.client.submitted[name] = record
        self.client.experiments[name] = str(experiment_name or job.experiment_name or "")
        return record

    def get(self, name: str) -> FakeJob:
        record = self.client.submitted[name]
        record.polls += 1
        if record.status not in ("Completed", "Failed", "Canceled"):
            record.status = "Running" if record.polls < self.client.polls_to_finish else (
                self.client.outcome)  # fmt: skip
        return record

    def begin_cancel(self, name: str) -> None:
        self.client.cancelled.append(name)
        self.client.submitted[name].status = "Canceled"

    def stream(self, name: str) -> None:
        while self.get(name).status not in ("Completed", "Failed", "Canceled"):
            pass

    def download(
        self,
        name: str,
        *,
        download_path: str = ".",
        output_name: str | None = None,
        all: bool = False,
    ) -> None:
        record = self.client.submitted[name]
        if record.status != "Completed":
            raise RuntimeError(f"job {name} is {record.status}; nothing to download")
        folder = Path(download_path) / "named-outputs" / (output_name or "default")
        folder.mkdir(parents=True, exist_ok=True)
        if self.client.outputs is not None:
            self.client.outputs(record, folder)


@dataclass
class _Models:
    client: FakeMLClient

    def create_or_update(self, model: Any) -> Any:
        from azure.ai.ml.entities import Model

        if not isinstance(model, Model):
            raise TypeError(f"models.create_or_update needs a Model, not {type(model).__name__}")
        if not Path(str(model.path)).exists():
            raise ValueError(f"the model path {model.path} does not exist")
        model._to_dict()
        model.version = str(model.version or len(self.client.models_registered) + 1)
        self.client.models_registered.append(model)
        return model


@dataclass
class FakeMLClient:
    """See the module docstring.

    Attributes:
        outputs: ``(job, folder)`` -> fill ``folder`` with the job's output on download.
        outcome: the final status jobs reach (``Completed`` or ``Failed``).
        polls_to_finish: ``get`` calls before a job reaches ``outcome``.
    """

    outputs: Callable[[FakeJob, Path], None] | None = None
    outcome: str = "Completed"
    polls_to_finish: int = 2
    count: int = 0
    submitted: dict[str, FakeJob] = field(default_factory=dict)
    experiments: dict[str, str] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    models_registered: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.jobs = _Jobs(self)
        self.models = _Models(self)
