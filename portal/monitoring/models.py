"""Drift reports and alerts: what monitoring found, and whom it told.

A :class:`DriftReport` is one test of the production version's recent inputs
against its reference (per feature: the test, the statistic, the threshold,
drifted or not). An :class:`Alert` is one *episode*: it opens when drift or
live accuracy crosses its threshold, is sent once, and closes when a later
check is back within bounds; checks in between add to ``checks`` and send
nothing.
"""

from __future__ import annotations

from django.db import models

__all__ = ["Alert", "AlertKind", "DriftReport"]


class DriftReport(models.Model):
    """One drift test of a model version's recent predictions against its reference."""

    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="drift_reports"
    )
    n_reference = models.PositiveIntegerField()
    n_current = models.PositiveIntegerField()
    features = models.JSONField(
        default=list, help_text="per feature: test, statistic, p_value, threshold, drifted"
    )
    drifted_share = models.FloatField()
    drifted = models.BooleanField()
    first_prediction_at = models.DateTimeField(null=True, blank=True)
    last_prediction_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=20, default="schedule", help_text="schedule or demand")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"drift of {self.model_version}: {'drifted' if self.drifted else 'stable'}"


class AlertKind(models.TextChoices):
    """What an alert is about."""

    DRIFT = "drift", "input drift"
    ACCURACY = "accuracy", "live accuracy"


class Alert(models.Model):
    """One episode of drift or low accuracy for a model version, with its evidence."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="alerts"
    )
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict)
    checks = models.PositiveIntegerField(default=1, help_text="checks that found it so far")
    opened_at = models.DateTimeField(auto_now_add=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    delivered = models.JSONField(
        default=dict, blank=True, help_text="channel -> 'sent' or the error (e-mail, webhooks)"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "model_version"],
                condition=models.Q(closed_at=None),
                name="monitoring_one_open_alert",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert on {self.model_version} ({'open' if self.is_open else 'closed'})"

    @property
    def is_open(self) -> bool:
        """Whether the episode goes on."""
        return self.closed_at is None
