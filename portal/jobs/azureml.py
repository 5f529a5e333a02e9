"""A training job with backend ``azureml``: train on Azure ML, register the model back here.

The runner writes the command job spec (:mod:`visionkit.azureml.plan`) with
the job's data set folder as its input (the SDK uploads a local folder on
submission), submits it through the client that ``VISIONKIT_AZUREML_CLIENT``
makes, follows it (a portal cancel cancels the Azure job), downloads the
``run`` output, stores its best model under ``jobs/<pk>/model`` and
registers it with :func:`portal.registry.services.register_from_job`, the
same path a local training job takes. The result records the Azure job, the
VM size and node count, the duration and the estimated cost.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from portal.common.storage import remove_files, store_files

if TYPE_CHECKING:
    from portal.jobs.context import JobContext
    from portal.jobs.models import Job

__all__ = ["client_factory", "estimate_for", "train_on_azureml"]

logger = logging.getLogger(__name__)

_PLACEMENT = ("backend", "vm_size", "nodes", "fine_tune_from")


def client_factory() -> Any:
    """The callable ``VISIONKIT_AZUREML_CLIENT`` names (``module:callable``)."""
    module, _, attr = str(settings.VISIONKIT_AZUREML_CLIENT).partition(":")
    return getattr(importlib.import_module(module), attr)


def _config(parameters: dict[str, Any]) -> Any:
    from visionkit.azureml.config import AzureMLConfig

    return AzureMLConfig.from_env().with_options(
        vm_size=parameters.get("vm_size"), nodes=parameters.get("nodes")
    )


def estimate_for(parameters: dict[str, Any]) -> dict[str, Any]:
    """The planned cost of a training job with these (checked) parameters."""
    from visionkit.costs import estimate_run
    from visionkit.training.config import TrainConfig

    defaults = TrainConfig(data_dir=".", out_dir=".")
    azure = parameters.get("backend") == "azureml"
    config = _config(parameters)
    planned = estimate_run(
        config.vm_size if azure else "local-cpu", nodes=config.nodes if azure else 1,
        epochs=int(parameters.get("epochs", defaults.epochs)),
        patches_per_epoch=int(parameters.get("patches_per_epoch", defaults.patches_per_epoch)),
        time_limit_min=parameters.get("time_limit"), overhead_min=5.0 if azure else 0.0,
    )  # fmt: skip
    return planned.to_dict()


def train_on_azureml(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Run ``job`` on Azure ML and register its model (see the module docstring)."""
    from portal.datasets.services import download_dataset
    from portal.registry.services import register_from_job
    from visionkit.azureml.files import write_specs
    from visionkit.azureml.plan import TRAIN_JOB_FILE, option_flags, training_files
    from visionkit.azureml.submit import AzureMLBackend, find_model_folder
    from visionkit.costs import estimate
    from visionkit.training.tuning import SearchSpace

    assert job.dataset is not None
    config = _config(job.parameters)
    planned = estimate_for(job.parameters)
    ctx.log(f"Azure ML: {config.describe()}; planned cost about ${planned['usd']:.2f}")
    data = download_dataset(dataset=job.dataset, target=ctx.work_dir / "data")
    values = {k: v for k, v in job.parameters.items() if k not in _PLACEMENT}
    values.setdefault("version", f"job{job.pk}")
    specs_dir = ctx.work_dir / "specs"
    files = training_files(
        specs_dir, options=option_flags(values), config=config,
        space=SearchSpace(architectures=("unet-small",)), data=str(data.resolve()),
    )  # fmt: skip
    write_specs(specs_dir, files)
    backend = AzureMLBackend(client_factory()(config), poll_s=settings.VISIONKIT_AZUREML_POLL_S)

    def on_poll(status: str) -> None:
        ctx.progress(0.5 if status == "Running" else 0.1, f"Azure ML job: {status}")
        ctx.check_cancelled()

    finished = backend.run(specs_dir / TRAIN_JOB_FILE, experiment=config.experiment,
                           on_poll=on_poll)  # fmt: skip
    name = finished.name
    model = find_model_folder(backend.download(name, ctx.work_dir / "outputs"))
    cost = estimate(config.vm_size, finished.seconds / 3600.0, config.nodes)
    ctx.log(f"Azure ML job {name} completed: {cost.describe()}")
    prefix = f"jobs/{job.pk}/model"
    stored = store_files(Path(model), prefix)
    answer: dict[str, Any] = {
        "model_folder": prefix,
        "azureml_job": name,
        "studio_url": finished.studio_url,
        "code_version": "",
        "cost": {**cost.to_dict(), "duration_s": round(finished.seconds, 1)},
        "planned_cost": planned,
    }
    job.result = answer
    try:
        version = register_from_job(job=job, user=job.created_by)
    except BaseException:
        remove_files(stored)
        raise
    ctx.log(f"registered {version.name} v{version.version} as a candidate")
    answer["model_version"] = version.pk
    return answer
