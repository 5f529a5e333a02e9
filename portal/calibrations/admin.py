"""Saved calibrations in the admin: read, and deleted by admins."""

from __future__ import annotations

from django.contrib import admin

from portal.calibrations.models import SavedCalibration


@admin.register(SavedCalibration)
class SavedCalibrationAdmin(admin.ModelAdmin[SavedCalibration]):
    list_display = ["name", "frame", "residual_mm", "created_by", "created_at"]
    readonly_fields = ["name", "frame", "data", "points", "residual_mm", "created_by", "created_at"]
