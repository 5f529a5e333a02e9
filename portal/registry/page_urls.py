"""The registry's pages, under ``/models/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.registry import views

urlpatterns: list[URLPattern] = [
    path("", views.model_list, name="model-list"),
    path("<int:pk>/", views.model_version, name="model-version"),
    path("<int:pk>/promote/", views.promote, name="model-promote"),
    path("<int:pk>/rollback/", views.rollback, name="model-rollback"),
    path("<int:pk>/gate/", views.gate, name="model-gate"),
]
