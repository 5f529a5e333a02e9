"""visionkit.tracing: spans around each prediction step, free without a provider or the API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from visionkit import tracing
from visionkit.tracing import span

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_importing_visionkit_imports_no_opentelemetry() -> None:
    loaded = _python(
        "import sys, visionkit, visionkit.pipeline, visionkit.tracing\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    assert loaded.strip() == "[]"


def test_a_span_without_a_provider_records_nothing_and_costs_little() -> None:
    out = _python(
        "import timeit\n"
        "from visionkit.tracing import span\n"
        "with span('visionkit.read', image='a.png', size=None) as s:\n"
        "    s.set_attribute('visionkit.tips', 5)\n"
        "    print(s.is_recording())\n"
        "def once():\n"
        "    with span('visionkit.read', image='a.png'):\n"
        "        pass\n"
        "print(min(timeit.repeat(once, number=1000, repeat=3)) / 1000)"
    )
    recording, seconds = out.split()
    assert recording == "False"
    assert float(seconds) < 1e-4  # well under a millisecond per step of a prediction


@pytest.fixture
def without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if opentelemetry-api were not installed."""
    tracing._tracer.cache_clear()
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # type: ignore[arg-type]
    yield
    tracing._tracer.cache_clear()


@pytest.mark.usefixtures("without_opentelemetry")
def test_without_opentelemetry_a_span_is_a_plain_block() -> None:
    ran = []
    with span("visionkit.segment", scale=0.5) as current:
        current.set_attribute("visionkit.passes", 2)
        ran.append(True)
    assert ran == [True]
    with pytest.raises(KeyError), span("visionkit.dish"):
        raise KeyError("errors pass through")


_TRACED_RUN = """
import json, sys
from pathlib import Path
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from tests.helpers.models import band_model
from tests.helpers.plates import draw_plate
from visionkit.imageio import write_image
from visionkit.pipeline import Pipeline

folder = Path(sys.argv[1])
write_image(folder / "plates" / "plate_a.png", draw_plate(seed=1).image)
with trace.get_tracer("test").start_as_current_span("run"):
    with Pipeline(str(folder / "plates"), band_model(), ["json"], out_dir=folder / "out",
                  backend="torch") as pipeline:
        results = pipeline.run()
assert all(r.ok for r in results), [r.error for r in results]
print(json.dumps([
    {"name": s.name, "trace": s.context.trace_id, "id": s.context.span_id,
     "parent": s.parent.span_id if s.parent else None, "start": s.start_time, "end": s.end_time,
     "attributes": dict(s.attributes or {})}
    for s in exporter.get_finished_spans()
]))
"""


def test_a_pipeline_run_shows_read_predict_with_its_steps_and_adapters(tmp_path: Path) -> None:
    spans = json.loads(_python(_TRACED_RUN, str(tmp_path)).splitlines()[-1])
    by_name = {s["name"]: s for s in spans}
    assert sorted(by_name) == sorted(
        ["run", "visionkit.read", "visionkit.predict", "visionkit.dish", "visionkit.segment",
         "visionkit.landmarks", "visionkit.adapters"]
    )  # fmt: skip
    assert len(spans) == len(by_name)  # one plate: one span of each
    run = by_name["run"]
    assert {s["trace"] for s in spans} == {run["trace"]}
    for name in ("visionkit.read", "visionkit.predict", "visionkit.adapters"):
        assert by_name[name]["parent"] == run["id"], name
    predict = by_name["visionkit.predict"]
    for name in ("visionkit.dish", "visionkit.segment", "visionkit.landmarks"):
        step = by_name[name]
        assert step["parent"] == predict["id"], name
        assert predict["start"] <= step["start"] <= step["end"] <= predict["end"], name
    assert by_name["visionkit.read"]["end"] <= predict["start"] <= predict["end"]
    assert predict["end"] <= by_name["visionkit.adapters"]["start"]
    assert by_name["visionkit.read"]["attributes"] == {"visionkit.image": "plate_a.png"}
    assert by_name["visionkit.adapters"]["attributes"]["visionkit.adapters"] == "json"
    assert by_name["visionkit.landmarks"]["attributes"]["visionkit.tips"] == 5
    assert by_name["visionkit.segment"]["attributes"]["visionkit.backend"] == "torch"
