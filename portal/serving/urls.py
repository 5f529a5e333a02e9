"""URLs of the serving API, under ``/api/deployments/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.serving.api import views

app_name = "serving"

urlpatterns: list[URLPattern] = [
    path("", views.DeploymentList.as_view(), name="list"),
    path("<str:name>/", views.DeploymentDetail.as_view(), name="detail"),
    path("<str:name>/traffic/", views.TrafficView.as_view(), name="traffic"),
]
