"""Who may read /metrics: this host or a trusted network, or a scraper with the token."""

from __future__ import annotations

import logging
import os
import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

pytestmark = pytest.mark.django_db

SETTINGS = Path(__file__).resolve().parents[3] / "portal" / "settings.py"
TOKEN = "a-long-scrape-token-0123456789"
OUTSIDE = "203.0.113.9"


def _get(**extra: str) -> Any:
    return Client().get("/metrics", **extra)


def test_this_host_may_scrape_without_a_token() -> None:
    response = _get()
    assert response.status_code == 200
    assert b"visionkit_jobs_queued" in response.content
    assert _get(REMOTE_ADDR="::1").status_code == 200


def test_a_client_outside_the_networks_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="portal.telemetry"):
        response = _get(REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert "VISIONKIT_METRICS_TOKEN" in response.json()["detail"]
    assert f"refused /metrics to {OUTSIDE}" in caplog.text


def test_the_right_bearer_token_lets_a_remote_scraper_in(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.VISIONKIT_METRICS_TOKEN = TOKEN
    with caplog.at_level(logging.DEBUG):
        assert _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
        assert _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200
        wrong = _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
        assert wrong.status_code == 403
        assert _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403
    assert TOKEN not in caplog.text


def test_no_token_works_while_the_setting_is_empty(settings: Any) -> None:
    settings.VISIONKIT_METRICS_TOKEN = ""
    assert _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer").status_code == 403


def test_a_configured_network_may_scrape(settings: Any) -> None:
    settings.VISIONKIT_METRICS_NETWORKS = ["10.0.0.0/8", "2001:db8::/32"]
    assert _get(REMOTE_ADDR="10.1.2.3").status_code == 200
    assert _get(REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200  # from a dual-stack socket
    assert _get(REMOTE_ADDR="2001:db8::5").status_code == 200
    assert _get(REMOTE_ADDR="11.1.2.3").status_code == 403
    assert _get(REMOTE_ADDR="127.0.0.1").status_code == 403  # the default is replaced


def test_a_request_through_a_proxy_is_not_taken_for_a_local_one() -> None:
    # A reverse proxy on this host makes every client look local; it says so in its headers.
    assert _get(HTTP_X_FORWARDED_FOR=OUTSIDE).status_code == 403
    assert _get(HTTP_FORWARDED=f"for={OUTSIDE}").status_code == 403


def test_only_reads_are_answered() -> None:
    assert Client().post("/metrics").status_code == 405
    assert Client().head("/metrics").status_code == 200


def test_a_bad_network_fails_the_system_check(settings: Any) -> None:
    settings.VISIONKIT_METRICS_NETWORKS = ["10.0.0.0/8", "ten-dot-something"]
    errors = [m for m in run_checks() if m.id == "telemetry.E001"]
    assert len(errors) == 1
    assert "ten-dot-something" in errors[0].msg


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in list(os.environ):
        if name.startswith(("VISIONKIT_", "OTEL_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("VISIONKIT_SECRET_KEY", "k" * 60)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_settings_default_to_this_host_no_token_and_traces_in_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = _settings(monkeypatch)
    assert values["VISIONKIT_METRICS_NETWORKS"] == ["127.0.0.1/32", "::1/128"]
    assert values["VISIONKIT_METRICS_TOKEN"] == ""
    assert values["VISIONKIT_TRACING"] == "log"
    assert r"^metrics$" in values["SECURE_REDIRECT_EXEMPT"]
    assert r"^healthz$" in values["SECURE_REDIRECT_EXEMPT"]
    assert "portal.telemetry.middleware.MetricsMiddleware" in values["MIDDLEWARE"]


def test_settings_send_traces_over_otlp_once_an_endpoint_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = _settings(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318",
                       VISIONKIT_METRICS_NETWORKS="10.0.0.0/8, 192.168.1.0/24",
                       VISIONKIT_METRICS_TOKEN=TOKEN)  # fmt: skip
    assert values["VISIONKIT_TRACING"] == "otlp"
    assert values["VISIONKIT_METRICS_NETWORKS"] == ["10.0.0.0/8", "192.168.1.0/24"]
    assert values["VISIONKIT_METRICS_TOKEN"] == TOKEN
    traces_only = _settings(monkeypatch, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://c/v1/traces")
    assert traces_only["VISIONKIT_TRACING"] == "otlp"
    off = _settings(
        monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT="http://c:4318", VISIONKIT_TRACING="off"
    )
    assert off["VISIONKIT_TRACING"] == "off"
    with pytest.raises(ImproperlyConfigured, match="VISIONKIT_TRACING"):
        _settings(monkeypatch, VISIONKIT_TRACING="jaeger")
