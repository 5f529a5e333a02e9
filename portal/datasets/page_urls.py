"""The data sets' pages, under ``/datasets/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.datasets import views

urlpatterns: list[URLPattern] = [
    path("", views.dataset_list, name="dataset-list"),
    path("<int:pk>/", views.dataset_detail, name="dataset"),
    path("<int:pk>/preview/<int:index>.png", views.dataset_preview, name="dataset-preview"),
]
