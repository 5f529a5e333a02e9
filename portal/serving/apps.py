"""The serving app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class ServingConfig(AppConfig):
    """Blue/green deployments of production models, canary and shadow traffic."""

    name = "portal.serving"
    label = "serving"
    verbose_name = "Serving"
    default_auto_field = "django.db.models.BigAutoField"
