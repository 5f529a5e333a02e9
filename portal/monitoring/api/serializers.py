"""Serializers of the monitoring API: drift reports and alerts."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.monitoring.models import Alert, DriftReport

__all__ = ["AlertSerializer", "DriftCheckSerializer", "DriftReportSerializer"]


class DriftReportSerializer(serializers.ModelSerializer[DriftReport]):
    """One drift test: per feature the test, statistic, p-value, threshold and verdict."""

    class Meta:
        model = DriftReport
        fields = ["id", "model_version", "n_reference", "n_current", "features", "drifted_share",
                  "drifted", "first_prediction_at", "last_prediction_at", "trigger",
                  "created_at"]  # fmt: skip


class AlertSerializer(serializers.ModelSerializer[Alert]):
    """One alert episode with its evidence and where it was sent."""

    class Meta:
        model = Alert
        fields = ["id", "kind", "model_version", "summary", "evidence", "checks", "opened_at",
                  "closed_at", "delivered"]  # fmt: skip


class DriftCheckSerializer(serializers.Serializer[Any]):
    """``{model?}``: the version to test now (default: the live production version)."""

    model = serializers.CharField(required=False, help_text="id, name, name:version or name@stage")
