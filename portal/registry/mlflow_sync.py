"""MLflow follows the registry: model versions linked to their runs, aliases following stages.

MLflow keeps the experiments; the portal decides stages. When a version
that came from a tracked run (``mlflow_run_id``) is registered, an MLflow
model version of the same registered-model name is created from the run's
``model`` artifacts (or found, when the run registered one itself) and its
number kept in ``ModelVersion.mlflow_model_version``. After every change of
stage the registered model's aliases ``staging`` and ``production`` are set
to the MLflow versions of the portal's versions in those stages (and removed
when none is), so MLflow's own UI agrees with the portal. MLflow stages are
deprecated in favour of aliases, so only aliases are used.

The portal is the source of truth: these calls run after the database
commits, and a failing or unreachable MLflow is logged, never raised.
The store is ``VISIONKIT_MLFLOW_URI`` (``MLFLOW_TRACKING_URI``; default: a SQLite
file under ``var/mlflow/``); :func:`tracker` gives jobs their run in it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from portal.registry.models import ModelVersion, Stage

if TYPE_CHECKING:
    from visionkit.tracking import Tracker

__all__ = [
    "ALIASES",
    "CURVES",
    "link_version",
    "sync_aliases",
    "tracker",
    "tracking_uri",
    "training_curves",
]

logger = logging.getLogger(__name__)

#: Portal stage -> the MLflow alias that points at the version in it.
ALIASES: dict[str, str] = {Stage.STAGING: "staging", Stage.PRODUCTION: "production"}


def tracking_uri() -> str:
    """The MLflow store the portal's runs go to (``VISIONKIT_MLFLOW_URI``)."""
    return str(settings.VISIONKIT_MLFLOW_URI)


def tracker(experiment: str) -> Tracker:
    """The tracker of a job's run: the portal's MLflow store, or none when tracking is off."""
    from visionkit.tracking import MlflowTracker
    from visionkit.tracking import Tracker as NoTracker

    if not settings.VISIONKIT_JOB_TRACK:
        return NoTracker()
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return MlflowTracker(
        experiment, tracking_uri=uri, artifact_root=settings.VISIONKIT_MLFLOW_ARTIFACTS
    )


def _client() -> Any:
    from mlflow.tracking import MlflowClient

    uri = tracking_uri()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _ensure_registered_model(client: Any, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description="visionkit model folders (portal)")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def link_version(pk: int) -> str | None:
    """Give a version from a tracked run its MLflow model version; returns its number.

    Versions without a run id are left alone (the shipped default model, an
    uploaded archive).
    """
    version = ModelVersion.objects.filter(pk=pk).first()
    if version is None or not version.mlflow_run_id or version.mlflow_model_version:
        return version.mlflow_model_version if version is not None else None
    try:
        client = _client()
        run = client.get_run(version.mlflow_run_id)
        _ensure_registered_model(client, version.name)
        existing = [
            v for v in client.search_model_versions(f"name='{version.name}'")
            if v.run_id == version.mlflow_run_id
        ]  # fmt: skip
        if existing:
            number = str(existing[0].version)
        else:
            source = f"{run.info.artifact_uri.rstrip('/')}/model"
            created = client.create_model_version(
                version.name, source=source, run_id=version.mlflow_run_id,
                tags={"format": "visionkit-model-folder", "portal_version": version.version},
            )  # fmt: skip
            number = str(created.version)
    except Exception as exc:  # MLflow is a mirror: never fail the portal for it
        logger.warning("MLflow: could not link %s v%s to run %s: %s", version.name,
                       version.version, version.mlflow_run_id, exc)  # fmt: skip
        return None
    ModelVersion.objects.filter(pk=pk).update(mlflow_model_version=number)
    logger.info("MLflow: %s v%s is MLflow version %s", version.name, version.version, number)
    return number


def sync_aliases(name: str) -> dict[str, str | None]:
    """Point the aliases of ``name`` at the MLflow versions of its staging and production versions.

    Returns alias -> MLflow version number (``None``: alias removed or unset).
    Nothing is done for a name none of whose versions is linked to MLflow.
    """
    linked = ModelVersion.objects.filter(name=name).exclude(mlflow_run_id="")
    if not linked.exists():
        return {}
    for version in linked.filter(mlflow_model_version=""):
        link_version(version.pk)
    outcome: dict[str, str | None] = {}
    try:
        client = _client()
        for stage, alias in ALIASES.items():
            holder = (
                ModelVersion.objects.filter(name=name, stage=stage)
                .exclude(mlflow_model_version="")
                .order_by("-stage_changed_at")
                .first()
            )
            if holder is not None:
                client.set_registered_model_alias(name, alias, holder.mlflow_model_version)
                outcome[alias] = holder.mlflow_model_version
            else:
                _delete_alias(client, name, alias)
                outcome[alias] = None
    except Exception as exc:  # MLflow is a mirror: never fail the portal for it
        logger.warning("MLflow: could not move the aliases of %s: %s", name, exc)
        return outcome
    logger.info("MLflow: aliases of %s now %s", name, outcome)
    return outcome


def _delete_alias(client: Any, name: str, alias: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.delete_registered_model_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise


#: Metrics drawn as training curves on a version's page, when its run logged them.
CURVES: tuple[str, ...] = ("train_loss", "val_loss", "val_root_iou", "val_root_f1", "val_mean_iou")


def training_curves(run_id: str) -> dict[str, list[tuple[int, float]]]:
    """``metric -> [(epoch, value), ...]`` of :data:`CURVES` from the run; ``{}`` if unreachable."""
    if not run_id:
        return {}
    try:
        client = _client()
        curves: dict[str, list[tuple[int, float]]] = {}
        for key in CURVES:
            history = client.get_metric_history(run_id, key)
            if history:
                curves[key] = [(int(m.step), float(m.value)) for m in history]
        return curves
    except Exception as exc:  # a page without curves still shows the version
        logger.warning("MLflow: no training curves for run %s: %s", run_id, exc)
        return {}
