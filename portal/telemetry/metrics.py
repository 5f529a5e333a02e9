"""The portal's Prometheus series, each defined once, and the calls that feed them.

Counted and timed where the work happens:

- ``visionkit_http_requests_total{method,route,status,model_version}`` and
  ``visionkit_http_request_seconds{method,route,model_version}``: every
  request (:mod:`portal.telemetry.middleware`); ``route`` is the URL pattern
  (``api/predictions/<int:pk>/``), never the path, so the series stay few;
- ``visionkit_predictions_total{model_version,source}`` and
  ``visionkit_tips_total{model_version,band}``: each stored prediction
  (:func:`observe_prediction`); ``band`` is ``high`` (at least
  ``VISIONKIT_TIP_CONFIDENCE``: the robot acts on it), ``medium`` (at least
  0.5), ``low``, or ``none`` for a plant without a tip;
- ``visionkit_job_seconds{kind,status}``: each finished job (:func:`observe_job`).

Read from the database and the broker at scrape time (:class:`QueueCollector`):
``visionkit_jobs_queued{kind}``, ``visionkit_jobs_running{kind}`` and
``visionkit_queue_depth`` (tasks waiting in django-q2's broker).

``model_version`` is ``<name>:<version>`` (``root-unet:3``), empty where a
request made no prediction. Under gunicorn each worker writes its own values
to ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode) and
the ``/metrics`` view adds them up.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from portal.jobs.models import Job
    from portal.predictions.models import Prediction
    from portal.registry.models import ModelVersion

__all__ = [
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "JOB_SECONDS",
    "PREDICTIONS",
    "TIPS",
    "QueueCollector",
    "RequestLabels",
    "model_version_label",
    "observe_job",
    "observe_prediction",
    "request_labels",
    "tip_band",
]

logger = logging.getLogger(__name__)

#: Seconds: a page in milliseconds, a full-frame prediction on a small CPU in tens of seconds.
_REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: Seconds: a batch of a few plates in seconds, a training run in hours.
_JOB_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0)

# No ``*_created`` series beside each counter and histogram: Prometheus reads resets itself.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "visionkit_http_requests_total",
    "HTTP requests answered, by method, URL pattern, status and the model version that predicted.",
    ["method", "route", "status", "model_version"],
)
HTTP_SECONDS = Histogram(
    "visionkit_http_request_seconds",
    "Seconds from request to response, by method, URL pattern and model version.",
    ["method", "route", "model_version"],
    buckets=_REQUEST_BUCKETS,
)
PREDICTIONS = Counter(
    "visionkit_predictions_total",
    "Predictions stored, by model version and how they were asked for (api, page, job...).",
    ["model_version", "source"],
)
TIPS = Counter(
    "visionkit_tips_total",
    "Plants predicted, by model version and tip confidence band (high, medium, low, none).",
    ["model_version", "band"],
)
JOB_SECONDS = Histogram(
    "visionkit_job_seconds",
    "Seconds a job ran, from start to its final status, by kind and status.",
    ["kind", "status"],
    buckets=_JOB_BUCKETS,
)

#: The band a tip at least this confident falls in below ``VISIONKIT_TIP_CONFIDENCE``.
MEDIUM_CONFIDENCE = 0.5


def model_version_label(version: ModelVersion | None) -> str:
    """``root-unet:3``: a model version as a label value (empty for none)."""
    return f"{version.name}:{version.version}" if version is not None else ""


def tip_band(tip: dict[str, Any] | None) -> str:
    """``high``, ``medium``, ``low``, or ``none`` without a tip: the contract tip's band."""
    from django.conf import settings

    if tip is None:
        return "none"
    confidence = float(tip.get("confidence") or 0.0)
    if confidence >= float(settings.VISIONKIT_TIP_CONFIDENCE):
        return "high"
    return "medium" if confidence >= MEDIUM_CONFIDENCE else "low"


@dataclass
class RequestLabels:
    """What the request being served learnt for its labels (see :func:`observe_prediction`)."""

    model_version: str = ""


#: The labels of the request this context serves; ``None`` outside a request (a job).
request_labels: contextvars.ContextVar[RequestLabels | None] = contextvars.ContextVar(
    "visionkit_request_labels", default=None
)


def observe_prediction(prediction: Prediction) -> None:
    """Count a stored prediction and its tips by band; label the current request's model version."""
    version = model_version_label(prediction.model_version)
    PREDICTIONS.labels(model_version=version, source=prediction.source).inc()
    for plant in (prediction.contract or {}).get("plants") or []:
        TIPS.labels(model_version=version, band=tip_band(plant.get("tip"))).inc()
    labels = request_labels.get()
    if labels is not None:
        labels.model_version = version


def observe_job(job: Job) -> None:
    """Time a job that has ended, from its start to the end its row records."""
    # The row, not ``job``: finish_job writes the end with an UPDATE, and the reaper may have
    # ended the job meanwhile.
    row = type(job).objects.filter(pk=job.pk).values("status", "started_at", "finished_at").first()
    if row is None or row["started_at"] is None or row["finished_at"] is None:
        logger.debug("job %s has no start or end recorded; not timed", job.pk)
        return
    seconds = max(0.0, (row["finished_at"] - row["started_at"]).total_seconds())
    JOB_SECONDS.labels(kind=job.kind, status=row["status"]).observe(seconds)


_broker: Any = None


def _queue_depth() -> int | None:
    """Tasks waiting in django-q2's broker, or ``None`` when the broker cannot say."""
    global _broker
    try:
        from django_q.brokers import get_broker

        if _broker is None:
            _broker = get_broker()
        size = _broker.queue_size()
    except Exception as exc:  # a scrape must not fail because the broker is away
        logger.warning("could not read the job queue's depth: %s", exc)
        _broker = None
        return None
    return int(size) if size is not None else None


class QueueCollector(Collector):
    """Job and queue gauges read at scrape time: jobs queued and running by kind, broker depth."""

    def describe(self) -> Iterable[Metric]:
        """The families without samples, so registering the collector queries nothing."""
        return [*self._families(), self._depth_family()]

    def collect(self) -> Iterable[Metric]:
        """The current counts from the jobs table and the broker."""
        from django.db import DatabaseError
        from django.db.models import Count

        from portal.jobs.models import Job, Kind, Status

        queued, running = self._families()
        try:
            counts = {
                (row["kind"], row["status"]): row["n"]
                for row in Job.objects.filter(status__in=[Status.QUEUED, Status.RUNNING])
                .values("kind", "status")
                .annotate(n=Count("id"))
            }
        except DatabaseError as exc:
            logger.warning("could not count jobs for /metrics: %s", exc)
        else:
            for kind in Kind.values:
                queued.add_metric([kind], counts.get((kind, Status.QUEUED), 0))
                running.add_metric([kind], counts.get((kind, Status.RUNNING), 0))
            yield queued
            yield running
        depth = _queue_depth()
        if depth is not None:
            family = self._depth_family()
            family.add_metric([], depth)
            yield family

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "visionkit_jobs_queued", "Jobs waiting for a worker, by kind.", labels=["kind"]
            ),
            GaugeMetricFamily(
                "visionkit_jobs_running", "Jobs a worker is running, by kind.", labels=["kind"]
            ),
        ]

    @staticmethod
    def _depth_family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "visionkit_queue_depth", "Tasks waiting in the job queue's broker (django-q2)."
        )
