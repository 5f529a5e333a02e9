"""Where Azure ML jobs go: the workspace and compute, read from the environment.

| variable | default | meaning |
| --- | --- | --- |
| ``VISIONKIT_AZUREML_SUBSCRIPTION`` | (none) | subscription id of the workspace |
| ``VISIONKIT_AZUREML_RESOURCE_GROUP`` | (none) | its resource group |
| ``VISIONKIT_AZUREML_WORKSPACE`` | (none) | the workspace name |
| ``VISIONKIT_AZUREML_COMPUTE`` | ``gpu-cluster`` | compute cluster jobs run on |
| ``VISIONKIT_AZUREML_VM_SIZE`` | ``Standard_NC4as_T4_v3`` | its VM size (prices the run) |
| ``VISIONKIT_AZUREML_NODES`` | ``1`` | nodes a job holds |
| ``VISIONKIT_AZUREML_DATA`` | ``azureml:visionkit-plates@latest`` | training data (1) |
| ``VISIONKIT_AZUREML_EXPERIMENT`` | ``visionkit`` | experiment (and MLflow experiment) name |

(1) a data asset, an ``azureml://`` datastore path or a Blob ``https://`` URL.

Credentials are not settings here: :func:`ml_client` uses
``azure.identity.DefaultAzureCredential`` (``AZURE_CLIENT_ID``,
``AZURE_TENANT_ID``, ``AZURE_CLIENT_SECRET``, a managed identity or ``az
login``), so no secret passes through visionkit and none is logged. The
dry runs need none of these: they write specs with the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from visionkit.exceptions import SettingsError

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

__all__ = ["AzureMLConfig", "ml_client"]

_PREFIX = "VISIONKIT_AZUREML_"


@dataclass(frozen=True)
class AzureMLConfig:
    """The workspace, compute and defaults of Azure ML jobs (see the module docstring)."""

    subscription: str = ""
    resource_group: str = ""
    workspace: str = ""
    compute: str = "gpu-cluster"
    vm_size: str = "Standard_NC4as_T4_v3"
    nodes: int = 1
    data: str = "azureml:visionkit-plates@latest"
    experiment: str = "visionkit"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AzureMLConfig:
        """The settings in ``environ`` (default ``os.environ``) over the defaults.

        Raises:
            SettingsError: ``VISIONKIT_AZUREML_NODES`` is not a whole number >= 1.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for key in ("subscription", "resource_group", "workspace", "compute", "vm_size", "data",
                    "experiment"):  # fmt: skip
            raw = env.get(_PREFIX + key.upper(), "").strip()
            if raw:
                values[key] = raw
        raw_nodes = env.get(_PREFIX + "NODES", "").strip()
        if raw_nodes:
            try:
                values["nodes"] = int(raw_nodes)
            except ValueError:
                values["nodes"] = 0
            if values["nodes"] < 1:
                raise SettingsError(
                    f"{_PREFIX}NODES must be a whole number >= 1, not {raw_nodes!r}"
                )
        return cls(**values)

    def with_options(self, **options: Any) -> AzureMLConfig:
        """This config with the options that are not ``None`` replaced."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})

    @property
    def workspace_missing(self) -> list[str]:
        """The environment variables a submission still needs."""
        return [
            _PREFIX + key.upper()
            for key in ("subscription", "resource_group", "workspace")
            if not getattr(self, key)
        ]

    def describe(self) -> str:
        """Workspace and compute for a log line (names only; nothing secret)."""
        where = self.workspace or "(no workspace set)"
        return f"workspace {where}, compute {self.compute} ({self.vm_size} x{self.nodes})"


def ml_client(config: AzureMLConfig) -> MLClient:
    """An ``MLClient`` for the configured workspace with ``DefaultAzureCredential``.

    Raises:
        SettingsError: the subscription, resource group or workspace is not
            set (each missing variable named).
    """
    missing = config.workspace_missing
    if missing:
        raise SettingsError("submitting to Azure ML needs the workspace: set " + ", ".join(missing))
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient(
        DefaultAzureCredential(),
        subscription_id=config.subscription,
        resource_group_name=config.resource_group,
        workspace_name=config.workspace,
    )
