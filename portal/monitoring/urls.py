"""URLs of the monitoring API, under ``/api/monitoring/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.monitoring.api import views

app_name = "monitoring"

urlpatterns: list[URLPattern] = [
    path("drift/", views.DriftList.as_view(), name="drift"),
    path("alerts/", views.AlertList.as_view(), name="alerts"),
    path("accuracy/", views.AccuracyView.as_view(), name="accuracy"),
]
