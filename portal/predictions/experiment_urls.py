"""The experiments' pages, under ``/experiments/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.predictions import experiment_views as views

urlpatterns: list[URLPattern] = [
    path("", views.experiment_list, name="experiment-list"),
    path("<str:name>/", views.experiment, name="experiment"),
]
