"""The predictions' pages, under ``/predictions/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.predictions import views

urlpatterns: list[URLPattern] = [
    path("", views.prediction_list, name="prediction-list"),
    path("new/", views.upload, name="prediction-upload"),
    path("<int:pk>/", views.viewer, name="prediction"),
]
