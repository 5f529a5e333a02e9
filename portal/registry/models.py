"""Model versions and the append-only record of their stage changes.

The database holds the registry's rules, so no code path can break them:

- at most one version of a model name is in ``production`` (a conditional
  unique constraint);
- a (name, version) pair is registered once;
- :class:`StageChange` rows are never edited or deleted: ``save`` refuses an
  update, ``delete`` refuses outright, and the admin grants neither.

Stages move ``candidate -> staging -> production -> archived`` (see
:mod:`portal.registry.services` for the allowed moves). A candidate reaches
staging through a :class:`GateCheck` (its :class:`Evaluation` beside the
production version's, on the same held-out data set version); gate checks,
like stage changes, are kept as they were written.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

__all__ = ["Evaluation", "GateCheck", "ModelVersion", "Stage", "StageChange"]


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
    reference_stats = models.JSONField(
        default=list, blank=True,
        help_text="input statistics of the plates it was trained and validated on (drift)",
    )  # fmt: skip
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


class _AppendOnly(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("this is an audit trail: its rows cannot be edited")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("this is an audit trail: its rows cannot be deleted")


class AppendOnlyModel(models.Model):
    """A row written once: ``save`` refuses an update and ``delete`` refuses outright."""

    objects = _AppendOnly.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert once; an update is refused."""
        if self.pk is not None:
            raise PermissionError("this is an audit trail: its rows cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refused: the audit trail keeps every row."""
        raise PermissionError("this is an audit trail: its rows cannot be deleted")


class StageChange(AppendOnlyModel):
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

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model_version}: {self.from_stage or '-'} -> {self.to_stage}"


class Evaluation(models.Model):
    """A model version's headline metrics on one data set version (from an evaluation run)."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="evaluations"
    )
    dataset = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.PROTECT, related_name="evaluations"
    )
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metrics = models.JSONField(default=dict, help_text="EvaluationReport.metrics()")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model_version} on data set {self.dataset_id}"


class GateCheck(AppendOnlyModel):
    """A candidate compared with the production version on the same held-out data set version.

    ``comparison`` holds one row per configured metric: its name, which way is
    better, the tolerance, both values and whether the candidate passed it.
    """

    candidate = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="gate_checks"
    )
    baseline = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="the production version compared with (none: nothing was in production)",
    )  # fmt: skip
    dataset = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.PROTECT, related_name="gate_checks"
    )
    passed = models.BooleanField()
    comparison = models.JSONField(default=list)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"gate of {self.candidate} vs {self.baseline or 'nothing'}: {verdict}"
