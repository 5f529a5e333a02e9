"""Robot calibrations made in the portal: clicked fiducials fitted to typed robot coordinates."""

from __future__ import annotations

from django.apps import AppConfig


class CalibrationsConfig(AppConfig):
    name = "portal.calibrations"
    label = "calibrations"
    verbose_name = "Robot calibrations"
    default_auto_field = "django.db.models.BigAutoField"
