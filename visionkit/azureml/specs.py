"""Azure ML job specs as plain dicts: training, sweeps, batch prediction, environments.

Pure functions, no Azure import: each returns the dict whose YAML
``azure.ai.ml.load_job`` / ``load_environment`` (and ``az ml job create
--file``) accept. Paths inside a spec (the code snapshot, the Docker build
context, the conda file) are given by the caller, relative to the folder the
YAML is written to, the way the Azure ML loaders resolve them.

- :func:`command_job` runs ``visionkit train`` on one node pool with the
  data mounted read-only and the run folder (``best/``, ``last/``, logs) as
  the ``run`` output.
- :func:`sweep_job` runs the same command as its trial, with the search
  space of ``visionkit tune`` (:class:`~visionkit.training.tuning.SearchSpace`)
  and the median-stopping policy that mirrors Optuna's median pruner.
- :func:`parallel_job` (a pipeline with one parallel step) predicts a Blob
  folder of plates in mini-batches with
  :mod:`visionkit.azureml.batch_entry`, writing the prediction contract
  files to the ``predictions`` output.
- :func:`docker_environment` builds the image from the project's
  ``Dockerfile``; :func:`conda_environment` with :func:`conda_file` is the
  alternative on a curated Azure ML base image.

Inside a job, Azure ML points ``MLFLOW_TRACKING_URI`` at the workspace, so
training's MLflow tracker logs there with no setting (``azureml-mlflow`` is
in the environment); ``VISIONKIT_COMPUTE``/``VISIONKIT_NODES`` tell the run's
provenance which VM size it was on.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from visionkit.training.tuning import SearchSpace

__all__ = [
    "BASE_IMAGE",
    "COMMAND_SCHEMA",
    "ENVIRONMENT_SCHEMA",
    "PIPELINE_SCHEMA",
    "SWEEP_SCHEMA",
    "command_job",
    "conda_environment",
    "conda_file",
    "data_input",
    "docker_environment",
    "parallel_job",
    "search_space",
    "sweep_job",
    "train_command",
]

_SCHEMAS = "https://azuremlschemas.azureedge.net/latest/"
COMMAND_SCHEMA = _SCHEMAS + "commandJob.schema.json"
SWEEP_SCHEMA = _SCHEMAS + "sweepJob.schema.json"
PIPELINE_SCHEMA = _SCHEMAS + "pipelineJob.schema.json"
ENVIRONMENT_SCHEMA = _SCHEMAS + "environment.schema.json"
#: Curated Azure ML base image for the conda environment (CUDA 11.8, Ubuntu 22.04).
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"

#: Packages the conda environment installs with pip beside visionkit's requirements.
_PIP_EXTRAS = ("azureml-mlflow",)


def data_input(uri: str, *, mode: str = "ro_mount") -> dict[str, Any]:
    """A folder input: a data asset (``azureml:name@latest``, ``azureml:name:3``), a
    datastore path (``azureml://datastores/...``), a Blob URL or a local folder
    (uploaded on submission)."""
    return {"type": "uri_folder", "path": uri, "mode": mode}


def train_command(
    options: Sequence[str],
    *,
    trial_params: Mapping[str, str] | None = None,
) -> str:
    """The ``visionkit train`` line a job runs (``python -m visionkit`` in the code
    snapshot, the job's working folder): data from ``inputs.data``, the run
    folder in ``outputs.run``, then ``options`` (flags as the CLI takes them);
    ``trial_params`` (sweeps) go as ``--trial-param NAME=${{search_space.NAME}}``.
    """
    parts = ["python", "-m", "visionkit", "train", "${{inputs.data}}", "--out", "${{outputs.run}}"]
    parts += [str(option) for option in options]
    line = shlex.join(parts)
    for name, value in (trial_params or {}).items():
        line += f" --trial-param {name}={value}"
    # shlex quotes ${{...}}; Azure ML substitutes it textually, and it holds no spaces.
    return line.replace("'${{inputs.data}}'", "${{inputs.data}}").replace(
        "'${{outputs.run}}'", "${{outputs.run}}"
    )


def _provenance_env(vm_size: str, nodes: int) -> dict[str, str]:
    return {"VISIONKIT_COMPUTE": vm_size, "VISIONKIT_NODES": str(nodes)}


def command_job(
    *,
    options: Sequence[str],
    data: str,
    code: str,
    environment: str | Mapping[str, Any],
    compute: str,
    vm_size: str,
    nodes: int = 1,
    experiment: str = "visionkit",
    display_name: str = "visionkit-train",
    timeout_s: int | None = None,
) -> dict[str, Any]:
    """A command job that trains with ``visionkit train`` (see the module docstring).

    Args:
        options: ``visionkit train`` flags, e.g. ``["--epochs", "20"]``.
        data: the training plates (see :func:`data_input`).
        code: the code snapshot folder (the project root), relative to the YAML.
        environment: ``azureml:name:version`` or an inline environment dict.
        compute: the compute cluster's name.
        vm_size: its VM size, recorded in the run's provenance.
        nodes: nodes the job holds.
        experiment: experiment name (MLflow's too).
        display_name: what the studio shows.
        timeout_s: hard limit of the job; ``None`` leaves Azure ML's default.
    """
    spec: dict[str, Any] = {
        "$schema": COMMAND_SCHEMA,
        "type": "command",
        "display_name": display_name,
        "experiment_name": experiment,
        "description": "visionkit train on Hades-convention plates",
        "code": code,
        "command": train_command(options),
        "environment": environment if isinstance(environment, str) else dict(environment),
        "compute": f"azureml:{compute}",
        "resources": {"instance_count": nodes},
        "inputs": {"data": data_input(data)},
        "outputs": {"run": {"type": "uri_folder", "mode": "rw_mount"}},
        "environment_variables": _provenance_env(vm_size, nodes),
        "tags": {"visionkit.kind": "train", "visionkit.vm_size": vm_size},
    }
    if timeout_s is not None:
        spec["limits"] = {"timeout": int(timeout_s)}
    return spec


def search_space(space: SearchSpace) -> dict[str, Any]:
    """``visionkit tune``'s :class:`~visionkit.training.tuning.SearchSpace` in Azure ML terms.

    Log-uniform ranges become ``loguniform`` (Azure ML draws
    ``exp(uniform(min_value, max_value))``, so the bounds are natural logs);
    lists become ``choice``. ``space`` must be resolved (architectures named).
    """
    result: dict[str, Any] = {
        "architecture": {"type": "choice", "values": list(space.architectures)},
        "lr": {"type": "loguniform", "min_value": math.log(space.lr[0]),
               "max_value": math.log(space.lr[1])},
        "patch_size": {"type": "choice", "values": [int(p) for p in space.patch_sizes]},
        "dice_weight": {"type": "uniform", "min_value": float(space.dice_weight[0]),
                        "max_value": float(space.dice_weight[1])},
        "root_weight": {"type": "loguniform", "min_value": math.log(space.root_weight[0]),
                        "max_value": math.log(space.root_weight[1])},
    }  # fmt: skip
    if space.encoders:
        result["encoder"] = {"type": "choice", "values": list(space.encoders)}
    return result


def sweep_job(
    *,
    options: Sequence[str],
    space: SearchSpace,
    data: str,
    code: str,
    environment: str | Mapping[str, Any],
    compute: str,
    vm_size: str,
    trials: int = 20,
    concurrent: int = 2,
    metric: str = "val_root_iou",
    goal: str = "maximize",
    sampling: str = "random",
    experiment: str = "visionkit",
    display_name: str = "visionkit-sweep",
    timeout_s: int | None = None,
    trial_timeout_s: int | None = None,
) -> dict[str, Any]:
    """A sweep job whose trials are :func:`command_job`'s command with drawn parameters.

    ``metric`` is the MLflow metric training logs every epoch (the base
    config's ``early_stopping_metric``); ``goal`` ``maximize`` or ``minimize``.
    Poor trials stop early under the median-stopping policy (as ``visionkit
    tune``'s median pruner), judged every epoch after the first.
    """
    drawn = search_space(space)
    trial_params = {name: f"${{{{search_space.{name}}}}}" for name in drawn}
    limits: dict[str, Any] = {"max_total_trials": trials, "max_concurrent_trials": concurrent}
    if timeout_s is not None:
        limits["timeout"] = int(timeout_s)
    if trial_timeout_s is not None:
        limits["trial_timeout"] = int(trial_timeout_s)
    return {
        "$schema": SWEEP_SCHEMA,
        "type": "sweep",
        "display_name": display_name,
        "experiment_name": experiment,
        "description": "visionkit tune's search space on Azure ML",
        "compute": f"azureml:{compute}",
        "inputs": {"data": data_input(data)},
        "outputs": {"run": {"type": "uri_folder", "mode": "rw_mount"}},
        "trial": {
            "code": code,
            "command": train_command(options, trial_params=trial_params),
            "environment": environment if isinstance(environment, str) else dict(environment),
            "environment_variables": _provenance_env(vm_size, 1),
        },
        "sampling_algorithm": sampling,
        "search_space": drawn,
        "objective": {"goal": goal, "primary_metric": metric},
        "limits": limits,
        "early_termination": {
            "type": "median_stopping",
            "evaluation_interval": 1,
            "delay_evaluation": 1,
        },
        "tags": {"visionkit.kind": "sweep", "visionkit.vm_size": vm_size},
    }


def parallel_job(
    *,
    plates: str,
    model: str,
    output: str | None,
    code: str,
    environment: str | Mapping[str, Any],
    compute: str,
    vm_size: str,
    nodes: int = 1,
    mini_batch_size: int = 10,
    processes_per_node: int = 1,
    error_threshold: int = -1,
    retries: int = 2,
    mini_batch_timeout_s: int = 600,
    experiment: str = "visionkit",
    display_name: str = "visionkit-batch-predict",
    extra_arguments: Sequence[str] = (),
) -> dict[str, Any]:
    """A pipeline job whose one step, ``predict``, is a parallel job over ``plates``.

    Azure ML runs parallel jobs only as pipeline steps (``load_job`` refuses
    a lone ``type: parallel``), so the plates, model and predictions are the
    pipeline's inputs and outputs and the step binds them. Each node's
    workers call :mod:`visionkit.azureml.batch_entry`'s ``run`` with
    ``mini_batch_size`` plate files at a time.

    Args:
        plates: the folder of plate images (Blob URL, datastore path or data asset).
        model: the model folder (a registered model ``azureml:root-unet:3``,
            or a folder URI).
        output: where the predictions go (``azureml://datastores/.../paths/...``
            or a Blob URL); ``None`` lets Azure ML choose.
        code: the code snapshot folder, relative to the YAML.
        environment: as :func:`command_job`'s.
        compute: the cluster; ``vm_size`` its VM size.
        nodes: nodes; ``processes_per_node`` workers on each.
        mini_batch_size: plates per call of the entry script's ``run``.
        error_threshold: failed plates tolerated (-1: any; they are listed).
        retries: tries of a failed mini-batch; ``mini_batch_timeout_s`` each.
        extra_arguments: more ``batch_entry`` flags (``--calibration ot2``).
    """
    outputs: dict[str, Any] = {"predictions": {"type": "uri_folder", "mode": "rw_mount"}}
    if output:
        outputs["predictions"]["path"] = output
    arguments = ["--model", "${{inputs.model}}", "--out", "${{outputs.predictions}}",
                 *[str(a) for a in extra_arguments]]  # fmt: skip
    model_type = "custom_model" if model.startswith("azureml:") and "//" not in model else (
        "uri_folder")  # fmt: skip
    step: dict[str, Any] = {
        "type": "parallel",
        "inputs": {"plates": "${{parent.inputs.plates}}", "model": "${{parent.inputs.model}}"},
        "outputs": {"predictions": "${{parent.outputs.predictions}}"},
        "input_data": "${{inputs.plates}}",
        "mini_batch_size": str(mini_batch_size),
        "resources": {"instance_count": nodes},
        "max_concurrency_per_instance": processes_per_node,
        "mini_batch_error_threshold": error_threshold,
        "error_threshold": error_threshold,
        "retry_settings": {"max_retries": retries, "timeout": mini_batch_timeout_s},
        "logging_level": "INFO",
        "environment_variables": _provenance_env(vm_size, nodes),
        "task": {
            "type": "run_function",
            "code": code,
            "entry_script": "visionkit/azureml/batch_entry.py",
            "environment": environment if isinstance(environment, str) else dict(environment),
            "program_arguments": " ".join(arguments),
        },
    }
    return {
        "$schema": PIPELINE_SCHEMA,
        "type": "pipeline",
        "display_name": display_name,
        "experiment_name": experiment,
        "description": "visionkit predict on a folder of plates, in mini-batches",
        "settings": {"default_compute": f"azureml:{compute}"},
        "inputs": {
            "plates": data_input(plates),
            "model": {"type": model_type, "path": model, "mode": "download"},
        },
        "outputs": outputs,
        "jobs": {"predict": step},
        "tags": {"visionkit.kind": "batch-predict", "visionkit.vm_size": vm_size},
    }


def docker_environment(
    *, context: str, name: str = "visionkit", version: str = "1", dockerfile: str = "Dockerfile"
) -> dict[str, Any]:
    """An environment built by Azure ML from the project's ``Dockerfile``.

    ``context`` is the build context (the project root) relative to the YAML.
    """
    return {
        "$schema": ENVIRONMENT_SCHEMA,
        "name": name,
        "version": version,
        "description": "visionkit, built from the project's Dockerfile",
        "build": {"path": context, "dockerfile_path": dockerfile},
    }


def conda_file(requirements: Sequence[str]) -> dict[str, Any]:
    """A conda file: Python 3.11 and, with pip, visionkit's ``requirements`` (the code
    itself comes with the job's snapshot and runs as ``python -m visionkit``)."""
    return {
        "name": "visionkit",
        "channels": ["conda-forge"],
        "dependencies": [
            "python=3.11",
            "pip",
            {"pip": [*requirements, *_PIP_EXTRAS]},
        ],
    }


def conda_environment(
    *, conda_path: str, name: str = "visionkit-conda", version: str = "1", image: str = BASE_IMAGE
) -> dict[str, Any]:
    """An environment of ``image`` with the conda file at ``conda_path`` (relative to the YAML)."""
    return {
        "$schema": ENVIRONMENT_SCHEMA,
        "name": name,
        "version": version,
        "description": "visionkit on a curated Azure ML CUDA image, from a conda file",
        "image": image,
        "conda_file": conda_path,
    }
