"""Model versions and the append-only record of their stage changes.

The database holds the registry's rules, so no code path can break them:

- at most one version of a model name is in ``production`` (a conditional
  unique constraint);
- a (name, version) pair is registered once;
- :class:`StageChange` rows are never edited or deleted: ``save`` refuses an
  update, ``delete`` refuses outright, and the admin grants neither.

Stages move ``candidate -> staging -> production -> archived`` (see
:mod:`portal.registry.services` for the allowed moves).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

__all__ = ["ModelVersion", "Stage", "StageChange"]


class Stage(models.TextChoices):
    """Where a model version stands."""

    CANDIDATE = "candidate", "candidate"
    STAGING = "staging", "staging"
    PRODUCTION = "production", "production"
    ARCHIVED = "archived", "archived"


class ModelVersion(models.Model):
    """One registered model folder (weights, config, card) and where it stands."""

    name = models.CharField(max_length=100, help_text="registry name, e.g. root-unet")
    version = models.CharField(max_length=50)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.CANDIDATE)
    sha256 = models.CharField(max_length=64, help_text="of model.safetensors")
    architecture = models.CharField(max_length=100)
    folder = models.CharField(
        max_length=300, help_text="the model folder's prefix in the portal's file storage"
    )
    metrics = models.JSONField(default=dict, blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="the folder's config.json")
    mlflow_run_id = models.CharField(max_length=64, blank=True)
    mlflow_model_version = models.CharField(
        max_length=20, blank=True,
        help_text="the version of MLflow's registered model of the same name, when tracked",
    )  # fmt: skip
    dataset_version = models.CharField(
        max_length=64, blank=True, help_text="manifest hash of the training data"
    )
    code_version = models.CharField(max_length=100, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    stage_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-registered_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="registry_unique_version"),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(stage="production"),
                name="registry_one_production_per_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.stage})"


class _AppendOnly(models.QuerySet["StageChange"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("stage changes are an audit trail: they cannot be edited")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("stage changes are an audit trail: they cannot be deleted")


class StageChange(models.Model):
    """Who moved a model version from one stage to another, when and why. Never edited."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    objects = _AppendOnly.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model_version}: {self.from_stage or '-'} -> {self.to_stage}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert once; an update is refused."""
        if self.pk is not None:
            raise PermissionError("stage changes are an audit trail: they cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refused: the audit trail keeps every change."""
        raise PermissionError("stage changes are an audit trail: they cannot be deleted")
