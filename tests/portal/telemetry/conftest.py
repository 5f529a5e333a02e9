"""What the telemetry tests share: the spans the portal records, /metrics read back as numbers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.test import Client
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from portal.telemetry import tracing

#: A series: its name and its labels, sorted.
Series = tuple[str, tuple[tuple[str, str], ...]]

_EXPORTER = InMemorySpanExporter()
_ADDED = False


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span finished during the test, kept in memory beside the portal's own exporter.

    The global tracer provider is installed once per process (by the app's ``ready()``), so
    the exporter is added to it once and emptied for each test.
    """
    global _ADDED
    provider = tracing.provider()
    if provider is None:
        pytest.skip("tracing is off in this environment (VISIONKIT_TRACING=off)")
    if not _ADDED:
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _ADDED = True
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def scrape(client: Client | None = None, **extra: str) -> dict[Series, float]:
    """GET /metrics (from 127.0.0.1 unless ``extra`` says otherwise) as ``{series: value}``."""
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    values: dict[Series, float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def series(name: str, **labels: str) -> Series:
    """The key of one series in what :func:`scrape` returns."""
    return name, tuple(sorted(labels.items()))


def grew(before: dict[Series, float], after: dict[Series, float], key: Series) -> float:
    """How much a series rose between two scrapes (a series that was absent counts from 0)."""
    alike = sorted(k for k in after if k[0] == key[0])
    assert key in after, f"{key} is not in /metrics; the series of that name: {alike}"
    return after[key] - before.get(key, 0.0)


@pytest.fixture(scope="session")
def plate() -> tuple[str, bytes]:
    """A quarter-scale synthetic Hades frame with five plants: (its Hades file name, PNG bytes)."""
    from PIL import Image

    from visionkit.synth import SynthConfig, generate_plate

    drawn = generate_plate(7, SynthConfig().scaled(0.25))
    buffer = io.BytesIO()
    Image.fromarray(drawn.image).save(buffer, format="PNG")
    name = drawn.name if drawn.name.endswith(".png") else f"{drawn.name}.png"
    return name, buffer.getvalue()


def upload(plate: tuple[str, bytes]) -> io.BytesIO:
    """The plate as a named file for a multipart POST."""
    handle = io.BytesIO(plate[1])
    handle.name = plate[0]
    return handle
