"""URLs of the datasets API, under ``/api/datasets/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.datasets.api import views

app_name = "datasets"

urlpatterns: list[URLPattern] = [
    path("", views.DatasetList.as_view(), name="list"),
    path("<int:pk>/", views.DatasetDetail.as_view(), name="detail"),
]
