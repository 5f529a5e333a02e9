"""The predictions app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    """Predictions made through the portal, with their files and input statistics."""

    name = "portal.predictions"
    label = "predictions"
    verbose_name = "Predictions"
    default_auto_field = "django.db.models.BigAutoField"
