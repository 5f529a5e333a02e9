"""The set of spec files one Azure ML training or batch run needs, ready for :func:`write_specs`.

:func:`training_files` gives ``train-job.yml`` (the command job),
``sweep-job.yml`` (the sweep over ``visionkit tune``'s search space),
``environment.yml`` (built from the project's ``Dockerfile``),
``environment-conda.yml`` with ``conda.yml`` (the conda alternative);
:func:`batch_files` gives ``batch-job.yml`` (the parallel batch prediction)
and the same environments. Every path in them is relative to ``out``, the
folder they are written to. :func:`option_flags` turns chosen
``visionkit train`` settings back into the flags the job's command passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visionkit.azureml import specs
from visionkit.azureml.config import AzureMLConfig
from visionkit.azureml.files import project_root, relative, requirements

if TYPE_CHECKING:
    from visionkit.training.tuning import SearchSpace

__all__ = [
    "BATCH_JOB_FILE",
    "SWEEP_JOB_FILE",
    "TRAIN_JOB_FILE",
    "batch_files",
    "option_flags",
    "training_files",
]

TRAIN_JOB_FILE = "train-job.yml"
SWEEP_JOB_FILE = "sweep-job.yml"
BATCH_JOB_FILE = "batch-job.yml"
ENVIRONMENT_FILE = "environment.yml"
CONDA_ENVIRONMENT_FILE = "environment-conda.yml"
CONDA_FILE = "conda.yml"

#: TrainConfig key -> ``visionkit train`` flag (booleans: (on, off)).
_FLAGS: dict[str, str | tuple[str, str]] = {
    "architecture": "--architecture", "encoder": "--encoder", "patch_size": "--patch-size",
    "batch_size": "--batch-size", "epochs": "--epochs", "patches_per_epoch": "--patches-per-epoch",
    "lr": "--lr", "schedule": "--schedule", "loss": "--loss", "device": "--device",
    "seed": "--seed", "scale": "--scale", "data_scale": "--data-scale",
    "num_workers": "--workers", "time_limit": "--time-limit", "register": "--register",
    "experiment": "--experiment", "name": "--name", "version": "--version",
    "cache": ("--cache", "--no-cache"),
    "deterministic": ("--deterministic", "--no-deterministic"),
}  # fmt: skip


def option_flags(values: Mapping[str, Any]) -> list[str]:
    """``visionkit train`` flags for the TrainConfig ``values`` that have one.

    Raises:
        KeyError: a key without a flag (named): it cannot reach the job's command.
    """
    flags: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        if key not in _FLAGS:
            raise KeyError(f"{key} has no visionkit train option to pass to an Azure ML job")
        flag = _FLAGS[key]
        if isinstance(flag, tuple):
            flags.append(flag[0] if value else flag[1])
        else:
            flags += [flag, str(value)]
    return flags


def _environments(out: Path, root: Path, environment: str) -> tuple[Any, dict[str, Any]]:
    """The job's environment reference and the environment files to write."""
    docker = specs.docker_environment(context=relative(root, out))
    files: dict[str, Any] = {
        ENVIRONMENT_FILE: docker,
        CONDA_ENVIRONMENT_FILE: specs.conda_environment(conda_path=CONDA_FILE),
        CONDA_FILE: specs.conda_file(requirements()),
    }
    if environment == "docker":
        chosen: Any = {k: v for k, v in docker.items() if k not in ("$schema", "name", "version")}
    elif environment == "conda":
        chosen = {"image": specs.BASE_IMAGE, "conda_file": CONDA_FILE}
    else:
        chosen = environment  # a registered one: azureml:name:version or azureml:name@latest
    return chosen, files


def training_files(
    out: Path,
    *,
    options: Sequence[str],
    config: AzureMLConfig,
    space: SearchSpace,
    data: str | None = None,
    environment: str = "docker",
    code: Path | None = None,
    trials: int = 20,
    concurrent: int = 2,
    metric: str = "val_root_iou",
    timeout_s: int | None = None,
) -> dict[str, dict[str, Any]]:
    """File name -> spec for training on Azure ML (see the module docstring).

    ``environment`` is ``docker``, ``conda`` or a registered environment
    (``azureml:visionkit:3``); ``space`` must be resolved.
    """
    root = code or project_root()
    chosen, files = _environments(out, root, environment)
    shared: dict[str, Any] = {
        "options": options, "data": data or config.data, "code": relative(root, out),
        "environment": chosen, "compute": config.compute, "vm_size": config.vm_size,
        "experiment": config.experiment,
    }  # fmt: skip
    goal = "minimize" if metric.endswith("loss") else "maximize"
    files[TRAIN_JOB_FILE] = specs.command_job(**shared, nodes=config.nodes, timeout_s=timeout_s)
    files[SWEEP_JOB_FILE] = specs.sweep_job(
        **shared, space=space, trials=trials, concurrent=concurrent, metric=metric, goal=goal,
        trial_timeout_s=timeout_s,
    )  # fmt: skip
    return files


def batch_files(
    out: Path,
    *,
    plates: str,
    model: str,
    config: AzureMLConfig,
    output: str | None = None,
    environment: str = "docker",
    code: Path | None = None,
    mini_batch_size: int = 10,
    extra_arguments: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """File name -> spec for predicting a folder of plates as a parallel job."""
    root = code or project_root()
    chosen, files = _environments(out, root, environment)
    files[BATCH_JOB_FILE] = specs.parallel_job(
        plates=plates, model=model, output=output, code=relative(root, out), environment=chosen,
        compute=config.compute, vm_size=config.vm_size, nodes=config.nodes,
        mini_batch_size=mini_batch_size, experiment=config.experiment,
        extra_arguments=extra_arguments,
    )  # fmt: skip
    return files
