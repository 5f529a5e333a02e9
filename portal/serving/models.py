"""Deployments: two slots per model name, the live one served, and a counter every process reads.

A :class:`Deployment` is one model name's serving state. Its ``blue`` and
``green`` slots hold the last two production versions; ``live_slot`` says
which one answers. ``generation`` goes up by one at every switch, in the
same transaction as the registry's stage change: each web and worker
process compares it with the generation it last served and picks up the
new live version on its next request (:mod:`portal.serving.router`), while
requests already running finish on the model object they hold.

A staging version may be the ``challenger``: in ``canary`` mode it answers
``share`` of the requests; in ``shadow`` mode it runs beside production on
``share`` of them without changing any response. Each such pair of answers
is a :class:`Comparison`. :class:`DeploymentEvent` is the deployment's
audit trail (written once).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.registry.models import AppendOnlyModel

__all__ = ["Comparison", "Deployment", "DeploymentEvent", "Mode", "Slot"]


class Slot(models.TextChoices):
    """The two places a production version can be loaded."""

    BLUE = "blue", "blue"
    GREEN = "green", "green"


class Mode(models.TextChoices):
    """What the challenger (a staging version) does with live traffic."""

    OFF = "off", "off"
    CANARY = "canary", "canary (answers a share of requests)"
    SHADOW = "shadow", "shadow (runs beside production, answers nothing)"


class Deployment(models.Model):
    """One model name's two slots, the live one, and the challenger's traffic."""

    name = models.CharField(max_length=100, unique=True, help_text="the registry name")
    blue = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    green = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    live_slot = models.CharField(max_length=10, choices=Slot.choices, default=Slot.BLUE)
    generation = models.PositiveBigIntegerField(default=0, help_text="+1 at every switch")
    challenger = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="a staging version taking canary or shadow traffic",
    )  # fmt: skip
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OFF)
    share = models.FloatField(default=0.0, help_text="0 to 1: the requests the challenger sees")
    switched_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(share__gte=0.0, share__lte=1.0), name="serving_share_0_1"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (generation {self.generation}, {self.live_slot} live)"

    @property
    def live_id(self) -> int | None:
        """The id of the version in the live slot."""
        return self.blue_id if self.live_slot == Slot.BLUE else self.green_id

    @property
    def idle_slot(self) -> str:
        """The slot that is not live."""
        return Slot.GREEN if self.live_slot == Slot.BLUE else Slot.BLUE

    @property
    def idle_id(self) -> int | None:
        """The id of the version in the idle slot (the previous production, usually)."""
        return self.green_id if self.live_slot == Slot.BLUE else self.blue_id


class DeploymentEvent(AppendOnlyModel):
    """Who switched what, when and why, with the smoke check's evidence. Never edited."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(
        max_length=20, help_text="promote, rollback, smoke-failed, traffic, challenger-dropped"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slot = models.CharField(max_length=10, blank=True)
    generation = models.PositiveBigIntegerField()
    smoke = models.JSONField(null=True, blank=True, help_text="the smoke check, when one ran")
    detail = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.deployment.name}: {self.action} (generation {self.generation})"


class Comparison(models.Model):
    """Production and the challenger on the same live plate: tip agreement and latency."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="comparisons")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    prediction = models.ForeignKey(
        "predictions.Prediction", on_delete=models.CASCADE, related_name="comparisons"
    )
    production = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    challenger = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    tips_compared = models.PositiveIntegerField(help_text="tips either model found")
    tips_agreeing = models.PositiveIntegerField(help_text="tips both found within 1 mm")
    mean_distance_mm = models.FloatField(null=True, blank=True)
    production_ms = models.FloatField(null=True, blank=True)
    challenger_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.mode} on prediction {self.prediction_id}"

    @property
    def agreement(self) -> float | None:
        """Share of tips the two models agree on within 1 mm."""
        return self.tips_agreeing / self.tips_compared if self.tips_compared else None
