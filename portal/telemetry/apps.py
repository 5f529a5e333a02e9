"""The telemetry app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    """Prometheus metrics at ``/metrics`` and the process's OpenTelemetry tracing."""

    name = "portal.telemetry"
    label = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        """Install this process's tracer provider (once) and check the /metrics settings."""
        from django.core.checks import register

        from portal.telemetry import access, tracing

        tracing.configure()
        register(access.check_settings)
