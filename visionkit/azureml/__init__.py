"""Training, sweeps and batch prediction on Azure Machine Learning (see ``docs/azure.md``).

- :mod:`~visionkit.azureml.config`: the workspace and compute, from the environment;
- :mod:`~visionkit.azureml.specs`: the job and environment specs, as plain dicts;
- :mod:`~visionkit.azureml.files`: write them as YAML, checked by azure-ai-ml's loaders;
- :mod:`~visionkit.azureml.submit`: :class:`~visionkit.azureml.submit.AzureMLBackend`,
  which submits, follows, downloads and registers through an ``MLClient``;
- :mod:`~visionkit.azureml.batch_entry`: the parallel job's entry script.

Nothing here imports ``azure`` at module import time: only writing checked
files and submitting do, so ``visionkit --help`` stays light.
"""

from __future__ import annotations

import logging

from visionkit.exceptions import VisionkitError

__all__ = ["AzureMLError"]

# azure-ai-ml warns "This is an experimental class" for parts of its own job
# schemas every time a spec is loaded, whatever the spec says: noise on every
# dry run that a user can do nothing about. Its real errors still come through.
logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)


class AzureMLError(VisionkitError):
    """An Azure ML spec the loaders refuse, or a job that failed or gave no model."""
