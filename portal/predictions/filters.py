"""The filters of ``GET /api/predictions/``: model version, dates and the Hades name fields."""

from __future__ import annotations

import django_filters

from portal.predictions.models import Prediction

__all__ = ["PredictionFilter"]


class PredictionFilter(django_filters.FilterSet):
    """``?model=3&created_after=2026-01-01&experiment=43-14-ROOT1&plate=035&condition=...``."""

    model = django_filters.NumberFilter(field_name="model_version", help_text="model version id")
    model_name = django_filters.CharFilter(field_name="model_version__name")
    model_version = django_filters.CharFilter(field_name="model_version__version")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    date = django_filters.DateFilter(field_name="created_at", lookup_expr="date")
    image_name = django_filters.CharFilter(lookup_expr="icontains")
    min_confidence = django_filters.NumberFilter(field_name="confidence", lookup_expr="gte")

    class Meta:
        model = Prediction
        fields = ["experiment", "plate", "condition", "replicate", "source", "job"]
