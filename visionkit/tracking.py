"""Experiment tracking: MLflow by default, nothing when switched off.

:class:`Tracker` is the interface training talks to, and does nothing;
:class:`MlflowTracker` sends everything to MLflow through
:class:`mlflow.tracking.MlflowClient` (no global "active run" state).

Where runs go:

- ``MLFLOW_TRACKING_URI`` (or ``tracking_uri=``) when set;
- otherwise a local store needing no server: ``sqlite:///mlruns.db`` with
  artifacts under ``./mlartifacts/<experiment>``, both relative to the
  current directory.

Tracking never stops training. A tracking server that does not answer when
the run starts is reported once, and the run is logged to the local store
instead (``fallback_uri``); any MLflow call failing later is reported once
and tracking is switched off for the rest of the run.

Registering a model (:meth:`MlflowTracker.register_model`) creates a version
in the MLflow model registry whose source is the run's artifact folder
holding the visionkit model folder (``model.safetensors``, ``config.json``,
``MODEL_CARD.md``). It is not a pyfunc flavour: download the version's
artifacts and open them with :func:`visionkit.modelfolder.load_model`. The
version is tagged ``format=visionkit-model-folder``.

mlflow is imported only when a :class:`MlflowTracker` starts.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "DEFAULT_ARTIFACT_ROOT",
    "DEFAULT_TRACKING_URI",
    "MODEL_FORMAT_TAG",
    "MlflowTracker",
    "Tracker",
]

logger = logging.getLogger(__name__)

#: The local store used when ``MLFLOW_TRACKING_URI`` is not set.
DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"
#: Where the local store keeps artifacts (relative to the current directory).
DEFAULT_ARTIFACT_ROOT = "mlartifacts"
#: Tag set on registered model versions: what their artifacts are.
MODEL_FORMAT_TAG = ("format", "visionkit-model-folder")

_T = TypeVar("_T")


class Tracker:
    """Where a run's parameters, metrics and files go; this one drops them all.

    Subclasses override every method; none of them may raise because of the
    tracking backend (training must go on).
    """

    run_id: str | None = None

    @property
    def active(self) -> bool:
        """Whether anything is being recorded."""
        return False

    def start(
        self, *, run_name: str, run_id: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str | None:
        """Start (or, with ``run_id``, resume) a run; returns its id or ``None``."""
        return None

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record settings (once per run)."""

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Record metrics at ``step`` (the epoch); non-finite values are skipped."""

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Record facts about the run (data version, code version, environment)."""

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Store one file with the run."""

    def log_artifacts(
        self, folder: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Store a folder's files with the run."""

    def register_model(self, name: str, artifact_path: str) -> str | None:
        """Register the model folder logged at ``artifact_path``; returns the version."""
        return None

    def end(self, status: str = "FINISHED") -> None:
        """Close the run with ``status`` (``FINISHED``, ``FAILED`` or ``KILLED``)."""


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "experiment"


def _reachable(uri: str, timeout: float) -> str | None:
    """``None`` when an HTTP tracking server answers, else why not."""
    import requests

    try:
        requests.get(uri.rstrip("/") + "/health", timeout=timeout)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class MlflowTracker(Tracker):
    """Log a run to MLflow (see the module docstring for where and what).

    Args:
        experiment: the MLflow experiment (created if missing).
        tracking_uri: overrides ``MLFLOW_TRACKING_URI`` and the default.
        fallback_uri: where to log when an HTTP tracking server is down.
        artifact_root: artifact folder of experiments this tracker creates in
            a local store (``./mlartifacts`` by default).
        probe_timeout: seconds to wait for an HTTP server to answer.
    """

    def __init__(
        self,
        experiment: str = "visionkit",
        *,
        tracking_uri: str | None = None,
        fallback_uri: str = DEFAULT_TRACKING_URI,
        artifact_root: str | os.PathLike[str] | None = None,
        probe_timeout: float = 3.0,
    ) -> None:
        self.experiment = experiment
        self.tracking_uri = (
            tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
        )
        self.fallback_uri = fallback_uri
        self.artifact_root = Path(artifact_root or DEFAULT_ARTIFACT_ROOT)
        self.probe_timeout = probe_timeout
        self.run_id: str | None = None
        self.notice: str | None = None
        self._client: Any = None

    @property
    def active(self) -> bool:
        return self._client is not None and self.run_id is not None

    def _disable(self, what: str, exc: BaseException) -> None:
        self.notice = (
            f"MLflow tracking failed while {what} ({type(exc).__name__}: {exc}); "
            "training continues without tracking"
        )
        logger.warning("%s", self.notice)
        self._client = None

    def _call(self, what: str, action: Callable[[], _T]) -> _T | None:
        if not self.active:
            return None
        try:
            return action()
        except Exception as exc:  # any backend failure: report once, keep training
            self._disable(what, exc)
            return None

    # -- run life cycle ----------------------------------------------------

    def start(
        self, *, run_name: str, run_id: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str | None:
        uri = self.tracking_uri
        if uri.startswith(("http://", "https://")):
            problem = _reachable(uri, self.probe_timeout)
            if problem is not None:
                self.notice = (
                    f"MLflow tracking server {uri} is unreachable ({problem}); "
                    f"logging this run to the local store {self.fallback_uri} instead"
                )
                logger.warning("%s", self.notice)
                uri = self.fallback_uri
        try:
            self.run_id = self._open(uri, run_name, run_id, dict(tags or {}))
        except Exception as exc:  # a broken store must not stop training
            self._disable("starting the run", exc)
            self.run_id = None
        return self.run_id

    def _open(self, uri: str, run_name: str, run_id: str | None, tags: dict[str, str]) -> str:
        from mlflow.tracking import MlflowClient

        self._client = client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.tracking_uri = uri
        if run_id is not None:
            try:
                run = client.get_run(run_id)
            except Exception:  # not in this store (e.g. after a fall-back)
                logger.warning(
                    "MLflow run %s is not in %s; starting a new run instead", run_id, uri
                )
            else:
                client.update_run(run.info.run_id, status="RUNNING")
                logger.info("resumed MLflow run %s in %s", run_id, uri)
                return str(run.info.run_id)
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is None:
            location = None
            if not uri.startswith(("http://", "https://", "databricks")):
                folder = (self.artifact_root / _slug(self.experiment)).resolve()
                location = folder.as_uri()
            experiment_id = client.create_experiment(self.experiment, artifact_location=location)
        else:
            experiment_id = experiment.experiment_id
        run = client.create_run(experiment_id, run_name=run_name, tags=tags)
        logger.info("MLflow run %s in %s (experiment %s)", run.info.run_id, uri, self.experiment)
        return str(run.info.run_id)

    def end(self, status: str = "FINISHED") -> None:
        self._call("closing the run", lambda: self._client.set_terminated(self.run_id, status))

    # -- records -----------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(str(k), str(v)) for k, v in params.items()]

        def send() -> None:
            for start in range(0, len(items), 100):  # MLflow takes 100 params per batch
                self._client.log_batch(self.run_id, params=items[start : start + 100])

        self._call("logging parameters", send)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(str(k), float(v), now, int(step))
            for k, v in metrics.items()
            if isinstance(v, int | float) and math.isfinite(v)
        ]
        if items:
            self._call(
                "logging metrics", lambda: self._client.log_batch(self.run_id, metrics=items)
            )

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(str(k), str(v)) for k, v in tags.items()]
        if items:
            self._call("setting tags", lambda: self._client.log_batch(self.run_id, tags=items))

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        self._call(
            f"storing {path}",
            lambda: self._client.log_artifact(self.run_id, os.fspath(path), artifact_path),
        )

    def log_artifacts(
        self, folder: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self._call(
            f"storing {folder}",
            lambda: self._client.log_artifacts(self.run_id, os.fspath(folder), artifact_path),
        )

    def register_model(self, name: str, artifact_path: str) -> str | None:
        return self._call(
            f"registering model {name!r}", lambda: self._register(name, artifact_path)
        )

    def _register(self, name: str, artifact_path: str) -> str:
        from mlflow.exceptions import MlflowException

        client = self._client
        run = client.get_run(self.run_id)
        source = f"{run.info.artifact_uri.rstrip('/')}/{artifact_path}"
        try:
            client.create_registered_model(
                name, description="visionkit model folders (load with visionkit.modelfolder)"
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        version = client.create_model_version(
            name, source=source, run_id=self.run_id, tags=dict([MODEL_FORMAT_TAG])
        )
        logger.info("registered %s version %s (%s)", name, version.version, source)
        return str(version.version)
