"""Every request counted, timed and traced: :class:`MetricsMiddleware`.

Each request runs inside an OpenTelemetry server span named
``<METHOD> <route>`` (``POST api/predictions/``), the parent of whatever the
view does (``portal.predict``, the library's ``visionkit.*`` steps); a
``traceparent`` header from the caller continues the caller's trace. When the
response is out, the request is counted in ``visionkit_http_requests_total``
and timed in ``visionkit_http_request_seconds``.

The route label is the URL pattern the request matched
(``request.resolver_match.route``), never the path, so ids in URLs cannot
grow the number of series; a request that matched no pattern is ``unmatched``
(a 404, a redirect to the slashed URL) and a static file is ``static``. The
model version label is ``request.visionkit_model_version`` when the view set
one, else the version that predicted during the request (see
:func:`portal.telemetry.metrics.observe_prediction`), else empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from opentelemetry import propagate, trace

from portal.telemetry.metrics import HTTP_REQUESTS, HTTP_SECONDS, RequestLabels, request_labels

__all__ = ["MetricsMiddleware"]

#: Methods labelled by name; any other is ``other``, so a client cannot invent series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_tracer = trace.get_tracer("portal")


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return str(match.route)
    static = "/" + str(settings.STATIC_URL).lstrip("/")
    return "static" if request.path.startswith(static) else "unmatched"


class MetricsMiddleware:
    """Count, time and trace each request (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        method = request.method if request.method in _METHODS else "other"
        started = time.perf_counter()
        labels = RequestLabels()
        token = request_labels.set(labels)
        parent = propagate.extract(request.headers)
        try:
            with _tracer.start_as_current_span(
                str(method),
                context=parent,
                kind=trace.SpanKind.SERVER,
                attributes={"http.request.method": str(method), "url.path": request.path},
            ) as span:
                response = self.get_response(request)
                route = _route(request)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", response.status_code)
                if response.status_code >= 500:
                    span.set_status(trace.StatusCode.ERROR)
        finally:
            request_labels.reset(token)
        version = str(getattr(request, "visionkit_model_version", "") or labels.model_version)
        HTTP_REQUESTS.labels(
            method=method, route=route, status=str(response.status_code), model_version=version
        ).inc()
        HTTP_SECONDS.labels(method=method, route=route, model_version=version).observe(
            time.perf_counter() - started
        )
        return response
