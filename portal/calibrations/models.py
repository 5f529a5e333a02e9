"""A named robot calibration fitted in the portal, usable by predictions and exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["SavedCalibration"]


class SavedCalibration(models.Model):
    """A fitted :class:`visionkit.Calibration` (its ``to_dict``) and the points it came from."""

    name = models.SlugField(max_length=60, unique=True, help_text="how predictions name it")
    frame = models.CharField(max_length=40, help_text="the robot frame, e.g. ot2")
    data = models.JSONField(help_text="visionkit.Calibration.to_dict()")
    points = models.JSONField(help_text="[{x, y, robot_x, robot_y, robot_z}] the fit used")
    residual_mm = models.FloatField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.frame}, {self.residual_mm:.2f} mm)"
