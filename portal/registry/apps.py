"""The registry app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Model versions, stages and their audit trail."""

    name = "portal.registry"
    label = "registry"
    verbose_name = "Model registry"
    default_auto_field = "django.db.models.BigAutoField"
