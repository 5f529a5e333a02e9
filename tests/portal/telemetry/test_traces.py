"""A trace of one prediction shows its steps, nested under the request; spans reach the log."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.telemetry import tracing
from portal.telemetry.tracing import LogSpanExporter
from tests.portal.telemetry.conftest import upload

pytestmark = pytest.mark.django_db


def _by_name(finished: tuple[ReadableSpan, ...]) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        found.setdefault(span.name, []).append(span)
    return found


def _one(found: dict[str, list[ReadableSpan]], name: str) -> ReadableSpan:
    assert name in found, f"no {name} span; the trace has {sorted(found)}"
    assert len(found[name]) == 1, f"{len(found[name])} {name} spans"
    return found[name][0]


def _is_child(child: ReadableSpan, parent: ReadableSpan) -> bool:
    return (
        child.parent is not None
        and parent.context is not None
        and child.parent.span_id == parent.context.span_id
        and parent.start_time is not None
        and child.start_time is not None
        and parent.end_time is not None
        and child.end_time is not None
        and parent.start_time <= child.start_time <= child.end_time <= parent.end_time
    )


def test_a_trace_of_one_prediction_shows_each_step_under_its_request(
    operator: User, production_model: Any, plate: tuple[str, bytes], spans: InMemorySpanExporter
) -> None:
    client = APIClient()
    client.force_authenticate(operator)
    response = client.post("/api/predictions/", {"image": upload(plate)}, format="multipart")
    assert response.status_code == 201, response.content
    found = _by_name(spans.get_finished_spans())

    request = _one(found, "POST api/predictions/")
    assert request.kind is trace.SpanKind.SERVER
    assert request.parent is None
    assert request.attributes is not None
    assert request.attributes["http.route"] == "api/predictions/"
    assert request.attributes["http.response.status_code"] == 201
    portal_predict = _one(found, "portal.predict")
    read = _one(found, "visionkit.read")
    predict = _one(found, "visionkit.predict")
    dish = _one(found, "visionkit.dish")
    segment = _one(found, "visionkit.segment")
    landmarks = _one(found, "visionkit.landmarks")

    steps = [request, portal_predict, read, predict, dish, segment, landmarks]
    assert request.context is not None
    assert {s.context.trace_id for s in steps if s.context} == {request.context.trace_id}
    assert _is_child(portal_predict, request)
    assert _is_child(read, portal_predict)
    assert _is_child(predict, portal_predict)
    for step in (dish, segment, landmarks):
        assert _is_child(step, predict), step.name
    assert (dish.end_time or 0) <= (segment.start_time or 0)
    assert (segment.end_time or 0) <= (landmarks.start_time or 0)

    assert portal_predict.attributes is not None
    assert portal_predict.attributes["visionkit.model_version"] == "root-unet:1"
    assert portal_predict.attributes["visionkit.image"] == plate[0]
    assert predict.attributes is not None
    model = response.json()["model"]
    assert predict.attributes["visionkit.model"] == f"{model['name']}:{model['version']}"
    assert landmarks.attributes is not None
    assert landmarks.attributes["visionkit.tips"] == sum(
        p["tip"] is not None for p in response.json()["plants"]
    )
    assert segment.attributes is not None
    assert segment.attributes["visionkit.passes"] >= 1


def test_a_batch_jobs_trace_holds_each_prediction_under_the_job(
    operator: User, production_model: Any, plate: tuple[str, bytes], spans: InMemorySpanExporter,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    client = APIClient()
    client.force_authenticate(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/predictions/batch/", {"images": [upload(plate), upload(plate)]},
            format="multipart",
        )  # fmt: skip
    assert response.status_code == 202, response.content
    found = _by_name(spans.get_finished_spans())
    job = _one(found, "portal.job")
    assert job.attributes is not None
    assert job.attributes["visionkit.job_id"] == response.json()["id"]
    assert job.attributes["visionkit.kind"] == "predict"
    # The job hands its plates to shard tasks (any worker may run them): each shard's span
    # continues the job's trace, and the predictions sit under the shard that made them.
    shards = found["portal.batch_shard"]
    assert shards
    assert all(s.parent is not None and job.context is not None
               and s.parent.span_id == job.context.span_id
               and s.context.trace_id == job.context.trace_id for s in shards)  # fmt: skip
    assert len(found["portal.predict"]) == 2
    assert all(any(_is_child(p, s) for s in shards) for p in found["portal.predict"])
    assert len(found["visionkit.segment"]) == 2


def test_a_caller_s_traceparent_continues_its_trace(spans: InMemorySpanExporter) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    Client().get("/healthz", HTTP_TRACEPARENT=f"00-{trace_id}-{parent_id}-01")
    request = _one(_by_name(spans.get_finished_spans()), "GET healthz")
    assert request.context is not None
    assert request.parent is not None
    assert trace.format_trace_id(request.context.trace_id) == trace_id
    assert trace.format_span_id(request.parent.span_id) == parent_id


def test_a_request_matching_no_route_is_unmatched_not_an_error(spans: InMemorySpanExporter) -> None:
    Client().get("/no-such-page/")
    request = _one(_by_name(spans.get_finished_spans()), "GET unmatched")
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 404
    assert request.status.status_code is not trace.StatusCode.ERROR  # a 404 is the client's


def test_the_log_exporter_writes_one_line_per_span(caplog: pytest.LogCaptureFixture) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(LogSpanExporter()))
    tracer = provider.get_tracer("test")
    with caplog.at_level(logging.INFO, logger="visionkit.trace"):
        with (
            tracer.start_as_current_span("outer") as outer,
            tracer.start_as_current_span(
                "inner", attributes={"visionkit.image": "a plate.png", "visionkit.scale": 1 / 3}
            ),
        ):
            pass
        with pytest.raises(ValueError, match="bad plate"), tracer.start_as_current_span("failing"):
            raise ValueError("bad plate")
    lines = [r.getMessage() for r in caplog.records if r.name == "visionkit.trace"]
    assert len(lines) == 3
    inner, outer_line, failing = lines
    trace_id = trace.format_trace_id(outer.get_span_context().trace_id)
    span_id = trace.format_span_id(outer.get_span_context().span_id)
    assert inner.startswith(f"inner trace={trace_id} span=")
    assert f"parent={span_id} " in inner
    assert inner.endswith(' ms visionkit.image="a plate.png" visionkit.scale=0.333333')
    assert outer_line.startswith(f"outer trace={trace_id} span={span_id} parent=- ")
    assert failing.startswith("failing trace=")
    assert failing.endswith(' error="ValueError: bad plate"')


@pytest.mark.skipif(settings.VISIONKIT_TRACING != "log", reason="spans go elsewhere here")
def test_the_portal_logs_each_span_of_a_request_by_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert tracing.provider() is not None
    assert tracing.configure() is tracing.provider()  # once per process
    with caplog.at_level(logging.INFO, logger="visionkit.trace"):
        assert Client().get("/healthz").status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "visionkit.trace"]
    assert len(lines) == 1
    assert lines[0].startswith("GET healthz trace=")
    assert "http.response.status_code=200" in lines[0]
