"""``GET /metrics``: the Prometheus series in text format, for a scraper let in by :mod:`.access`.

Under gunicorn every worker and the job worker count in their own process.
When ``PROMETHEUS_MULTIPROC_DIR`` is set (``make run`` sets it; a deployment
sets it for every process, emptied at start), each process writes its values
to files there and this view adds them up with prometheus-client's
``MultiProcessCollector``, so one scrape sees the whole portal whichever
worker answers. Without it the view serves this process's default registry.
The job and queue gauges are read from the database at scrape time either way.
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from portal.telemetry.access import allowed
from portal.telemetry.metrics import QueueCollector

__all__ = ["metrics"]

_queue_collector = QueueCollector()
REGISTRY.register(_queue_collector)  # describe() only: registering queries nothing


def _registry() -> CollectorRegistry:
    # prometheus-client's own variable: its value classes read it too, so it is read here and
    # not through settings.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(QueueCollector())
        return registry
    return REGISTRY


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format; 403 for a client without the token or network."""
    if not allowed(request):
        return JsonResponse(
            {
                "detail": "metrics are for the monitoring system: send Authorization: Bearer "
                "<VISIONKIT_METRICS_TOKEN>, or scrape from a network in VISIONKIT_METRICS_NETWORKS"
            },
            status=403,
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
