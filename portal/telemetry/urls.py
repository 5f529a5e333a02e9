"""URLs of the telemetry app, at the root: ``/metrics``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.telemetry import views

urlpatterns: list[URLPattern] = [
    path("metrics", views.metrics, name="metrics"),
]
