"""URLs of the registry API, under ``/api/models/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.registry.api import views

app_name = "registry"

urlpatterns: list[URLPattern] = [
    path("", views.ModelVersionList.as_view(), name="list"),
    path("rollback/", views.RollbackView.as_view(), name="rollback"),
    path("<int:pk>/", views.ModelVersionDetail.as_view(), name="detail"),
    path("<int:pk>/promote/", views.PromoteView.as_view(), name="promote"),
    path("<int:pk>/gate/", views.GateView.as_view(), name="gate"),
]
