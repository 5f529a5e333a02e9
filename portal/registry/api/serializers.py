"""Serializers of the registry API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.registry.models import Evaluation, GateCheck, ModelVersion, Stage, StageChange

__all__ = [
    "EvaluationSerializer",
    "GateCheckSerializer",
    "ModelVersionSerializer",
    "PromoteSerializer",
    "RegisterSerializer",
    "RollbackSerializer",
    "StageChangeSerializer",
]


class StageChangeSerializer(serializers.ModelSerializer[StageChange]):
    """One audit record: who moved the version, from where to where, when and why."""

    changed_by = serializers.CharField(source="changed_by.username", default=None)

    class Meta:
        model = StageChange
        fields = ["from_stage", "to_stage", "reason", "changed_by", "changed_at"]


class ModelVersionSerializer(serializers.ModelSerializer[ModelVersion]):
    """A model version with its metrics, lineage and (in detail) its audit trail."""

    registered_by = serializers.CharField(source="registered_by.username", default=None)

    class Meta:
        model = ModelVersion
        fields = [
            "id", "name", "version", "stage", "sha256", "architecture", "metrics",
            "mlflow_run_id", "mlflow_model_version", "dataset_version", "code_version",
            "registered_by",
            "registered_at", "stage_changed_at",
        ]  # fmt: skip


class GateCheckSerializer(serializers.ModelSerializer[GateCheck]):
    """A gate: the candidate beside production on one held-out data set version, per metric."""

    baseline_version = serializers.CharField(source="baseline.version", default=None)
    dataset_version = serializers.CharField(source="dataset.version")

    class Meta:
        model = GateCheck
        fields = ["id", "passed", "baseline", "baseline_version", "dataset", "dataset_version",
                  "comparison", "job", "created_at"]  # fmt: skip


class EvaluationSerializer(serializers.ModelSerializer[Evaluation]):
    """A version's metrics on one data set version."""

    dataset_version = serializers.CharField(source="dataset.version")

    class Meta:
        model = Evaluation
        fields = ["dataset", "dataset_version", "metrics", "job", "created_at"]


class ModelVersionDetailSerializer(ModelVersionSerializer):
    """A model version with its config, audit trail, gate checks and evaluations."""

    stage_changes = StageChangeSerializer(many=True, read_only=True)
    gate_checks = GateCheckSerializer(many=True, read_only=True)
    evaluations = EvaluationSerializer(many=True, read_only=True)

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "config", "stage_changes", "gate_checks",
                  "evaluations"]  # fmt: skip


class PromoteSerializer(serializers.Serializer[Any]):
    """Where to move a version, and why (the reason goes into the audit trail)."""

    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=2000)


class RollbackSerializer(serializers.Serializer[Any]):
    """Which model name to roll back (the only one when omitted), and why."""

    name = serializers.CharField(max_length=100, required=False)
    reason = serializers.CharField(max_length=2000)


class RegisterSerializer(serializers.Serializer[Any]):
    """``POST /api/models/``: a model-folder zip as ``file``, or a finished training ``job``."""

    file = serializers.FileField(
        required=False, help_text="zip of model.safetensors, config.json, MODEL_CARD.md"
    )
    job = serializers.IntegerField(required=False, help_text="a succeeded training job's id")
    name = serializers.CharField(required=False, max_length=100, help_text="default: the config's")
    version = serializers.CharField(required=False, max_length=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("job")):
            raise serializers.ValidationError("send exactly one of `file` (a zip) or `job` (an id)")
        return attrs
