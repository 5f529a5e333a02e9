"""The calibration page, under ``/calibrations/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.calibrations import views

urlpatterns: list[URLPattern] = [path("", views.calibrations, name="calibrations")]
