"""Reads of the predictions app."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.predictions.models import Prediction

__all__ = ["predictions"]


def predictions() -> QuerySet[Prediction]:
    """Every prediction, newest first, with its model version and author joined."""
    return Prediction.objects.select_related("model_version", "created_by", "job")
