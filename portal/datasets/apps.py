"""The datasets app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    """Data set versions registered from zips in the Hades mask convention."""

    name = "portal.datasets"
    label = "datasets"
    verbose_name = "Data sets"
    default_auto_field = "django.db.models.BigAutoField"
