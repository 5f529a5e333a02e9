"""Usage and capacity: the Prometheus ``/metrics`` endpoint and OpenTelemetry traces."""
