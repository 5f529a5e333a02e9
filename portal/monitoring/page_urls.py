"""The monitoring page, under ``/monitoring/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.monitoring import views

urlpatterns: list[URLPattern] = [
    path("", views.monitoring, name="monitoring"),
    path("drift/<int:pk>/", views.check_drift, name="monitoring-drift"),
    path("traffic/<str:name>/", views.traffic, name="monitoring-traffic"),
]
