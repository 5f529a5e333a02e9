"""Predictions in the admin: read-only, they record what a model said."""

from __future__ import annotations

from django.contrib import admin

from portal.common.admin import ReadOnlyAdmin
from portal.predictions.models import Prediction


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    """List and read predictions; nobody edits what a model predicted."""

    list_display = ("id", "image_name", "model_version", "n_tips", "n_plants", "confidence",
                    "experiment", "plate", "source", "created_by", "created_at")  # fmt: skip
    list_filter = ("source", "model_version", "experiment")
    search_fields = ("image_name", "experiment", "plate", "condition")
    date_hierarchy = "created_at"
