"""Where this process's spans go: an OTLP collector when one is configured, the log otherwise.

The library (:mod:`visionkit.tracing`) and the portal only make spans, through
opentelemetry-api; :func:`configure` (called once per process from the app's
``ready()``) installs the tracer provider that records them, with the resource
``service.name=visionkit-portal``. ``VISIONKIT_TRACING`` chooses what it does
with finished spans:

- ``otlp`` (the default when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set): batched and sent over
  OTLP/HTTP; the exporter reads the standard ``OTEL_EXPORTER_OTLP_*``
  variables itself (endpoint, headers, timeout);
- ``log`` (the default otherwise): one line per span to the logger
  ``visionkit.trace`` at INFO, written as the span ends (:class:`LogSpanExporter`);
- ``off``: no provider, so every span is a no-op.

A process that already has a tracer provider (started under
``opentelemetry-instrument``, say) keeps it. The global provider can be set
only once per process, so tests reach the installed one through
:func:`provider` and add their own span processor to it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

__all__ = ["MODES", "SERVICE", "TRACE_LOGGER", "LogSpanExporter", "configure", "provider"]

logger = logging.getLogger(__name__)

#: What ``VISIONKIT_TRACING`` may say.
MODES = ("otlp", "log", "off")

#: The ``service.name`` of every span the portal's processes send.
SERVICE = "visionkit-portal"

#: The logger the ``log`` mode writes spans to.
TRACE_LOGGER = "visionkit.trace"

_lock = threading.Lock()
_configured = False
_provider: TracerProvider | None = None


class LogSpanExporter(SpanExporter):
    """Each finished span as one log line: name, ids, parent, duration and attributes.

    ::

        visionkit.segment trace=5f0c... span=9a1e... parent=77b2... 812.4 ms visionkit.passes=1
    """

    def __init__(self, name: str = TRACE_LOGGER) -> None:
        self._logger = logging.getLogger(name)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write one INFO line per span."""
        if not self._logger.isEnabledFor(logging.INFO):
            return SpanExportResult.SUCCESS
        for span in spans:
            self._logger.info("%s", _line(span))
        return SpanExportResult.SUCCESS


def _value(value: object) -> str:
    """An attribute value for a ``key=value`` field: quoted when it holds spaces or quotes."""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=') else text


def _line(span: ReadableSpan) -> str:
    context = span.context
    trace_id = trace.format_trace_id(context.trace_id) if context else "-"
    span_id = trace.format_span_id(context.span_id) if context else "-"
    parent = trace.format_span_id(span.parent.span_id) if span.parent else "-"
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    fields = [f"{key}={_value(value)}" for key, value in sorted((span.attributes or {}).items())]
    if span.status.status_code is trace.StatusCode.ERROR:
        fields.append(f"error={_value(span.status.description or 'yes')}")
    text = f"{span.name} trace={trace_id} span={span_id} parent={parent} {duration_ms:.1f} ms"
    return " ".join([text, *fields])


def _processor(mode: str) -> SpanProcessor:
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter())
    return SimpleSpanProcessor(LogSpanExporter())


def configure(mode: str | None = None) -> TracerProvider | None:
    """Install this process's tracer provider, once; later calls return the same one.

    Args:
        mode: ``otlp``, ``log`` or ``off``; default ``settings.VISIONKIT_TRACING``.

    Returns:
        The provider spans are recorded by, or ``None`` when tracing is off or
        another, non-SDK provider was installed first.

    Raises:
        ValueError: ``mode`` is not one of :data:`MODES`.
    """
    global _configured, _provider
    chosen = mode or str(settings.VISIONKIT_TRACING)
    if chosen not in MODES:
        raise ValueError(f"tracing mode {chosen!r} is not one of {', '.join(MODES)}")
    with _lock:
        if _configured:
            return _provider
        _configured = True
        if chosen == "off":
            logger.debug("tracing is off (VISIONKIT_TRACING=off)")
            return None
        current = trace.get_tracer_provider()
        if not isinstance(current, trace.ProxyTracerProvider):
            logger.info("tracing: keeping the tracer provider already installed (%r)", current)
            _provider = current if isinstance(current, TracerProvider) else None
            return _provider
        from visionkit import __version__

        installed = TracerProvider(
            resource=Resource.create({SERVICE_NAME: SERVICE, SERVICE_VERSION: __version__})
        )
        installed.add_span_processor(_processor(chosen))
        trace.set_tracer_provider(installed)
        _provider = installed
        where = "an OTLP collector" if chosen == "otlp" else f"the log ({TRACE_LOGGER})"
        logger.debug("tracing: spans go to %s", where)
        return installed


def provider() -> TracerProvider | None:
    """The provider :func:`configure` installed (``None`` before, or when tracing is off)."""
    return _provider
