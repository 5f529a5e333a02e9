"""OpenTelemetry spans around the steps of a prediction, at no cost when nothing traces them.

So that a slow prediction can be taken apart in a trace, each step runs inside
``with span("visionkit.<step>")``:

- ``visionkit.read``: one image file read and brought to 8 bits
  (:meth:`visionkit.Predictor.read`, the file sources);
- ``visionkit.predict``: one frame through the model, with its steps as children:
  ``visionkit.dish`` (dish detection and crop), ``visionkit.segment`` (the
  network, tiles and TTA passes) and ``visionkit.landmarks`` (each plant's
  start and tip);
- ``visionkit.adapters``: the output adapters writing that prediction.

``read`` and ``adapters`` are siblings of ``predict`` under whatever span the
caller has open (the portal's request or job span), since a frame is read
before it is predicted and delivered after.

The library only *makes* spans, through opentelemetry-api's global tracer
(named ``visionkit``); an application that wants them installs a tracer
provider and an exporter (the portal's ``portal.telemetry`` does, as does
``opentelemetry-instrument``). Without one the spans are non-recording and
cost a few microseconds each, against hundreds of milliseconds for a
prediction; without opentelemetry-api installed, :func:`span` does nothing.
opentelemetry is imported on the first span, never by ``import visionkit``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["ATTRIBUTE_PREFIX", "TRACER_NAME", "SpanLike", "span"]

#: The instrumentation scope of every span the library makes.
TRACER_NAME = "visionkit"

#: Keyword attributes of :func:`span` are recorded under this namespace.
ATTRIBUTE_PREFIX = "visionkit."


class SpanLike(Protocol):
    """What :func:`span` yields: an OpenTelemetry span, or a stand-in that records nothing."""

    def set_attribute(self, key: str, value: Any) -> Any:
        """Record ``value`` under ``key`` (a full name, e.g. ``visionkit.tips``)."""


class _NoSpan:
    """The stand-in when opentelemetry-api is not installed."""

    def set_attribute(self, key: str, value: Any) -> None:
        """Record nothing."""


_NO_SPAN = _NoSpan()


@functools.cache
def _tracer() -> Any | None:
    """The ``visionkit`` tracer, or ``None`` without opentelemetry-api.

    Taken once: before an application installs its provider this is
    opentelemetry's proxy tracer, which hands over to that provider as soon as
    it is set.
    """
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    from visionkit.version import __version__

    return trace.get_tracer(TRACER_NAME, __version__)


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as OpenTelemetry attributes: namespaced, ``None`` dropped, others as text."""
    attributes: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str | bool | int | float):
            value = str(value)
        attributes[ATTRIBUTE_PREFIX + key] = value
    return attributes


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[SpanLike]:
    """A span named ``name`` around the block, the current span's child.

    Args:
        name: what the block does, e.g. ``visionkit.segment``.
        **attributes: recorded as ``visionkit.<key>`` (``image="plate.png"`` is
            ``visionkit.image``); ``None`` values are left out and values that
            are not text, numbers or flags are recorded as text.

    Yields:
        The span, to add attributes known only at the end; an exception
        leaving the block is recorded on it and marks it as an error.
    """
    tracer = _tracer()
    if tracer is None:
        yield _NO_SPAN
        return
    with tracer.start_as_current_span(name, attributes=_attributes(attributes)) as current:
        yield current
