"""What the jobs API takes and answers."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.accounts.models import User
from portal.datasets.models import DatasetVersion
from portal.jobs.models import Backend, Job, Kind
from portal.registry.models import ModelVersion

__all__ = ["EstimateSerializer", "JobSerializer", "SubmitJobSerializer"]


class SubmitJobSerializer(serializers.Serializer[Any]):
    """``POST /api/jobs/``: what to run, on which data and model, with which parameters."""

    kind = serializers.ChoiceField(choices=Kind.choices)
    dataset = serializers.PrimaryKeyRelatedField(
        queryset=DatasetVersion.objects.all(), required=False, allow_null=True,
        help_text="data set id (train, evaluate)",
    )  # fmt: skip
    model = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), required=False, allow_null=True,
        help_text="model version id (evaluate; default: the one in production)",
    )  # fmt: skip
    parameters = serializers.DictField(
        required=False, default=dict, help_text='settings of the run, e.g. {"epochs": 5}'
    )
    backend = serializers.ChoiceField(choices=Backend.choices, default=Backend.LOCAL)


class EstimateSerializer(serializers.Serializer[Any]):
    """``POST /api/jobs/estimate/``: a training job's planned compute, length and cost."""

    compute = serializers.CharField(help_text="local-cpu, local-gpu or the Azure VM size")
    nodes = serializers.IntegerField(help_text="machines the run holds")
    hours = serializers.FloatField(help_text="planned wall-clock hours")
    usd_per_hour = serializers.FloatField(help_text="the price table's price of one node")
    usd = serializers.FloatField(help_text="usd_per_hour x hours x nodes")
    description = serializers.CharField(help_text="the same, in one line for people")
    prices = serializers.CharField(help_text="where the prices come from, and their date")


class JobSerializer(serializers.ModelSerializer[Job]):
    """A job: what it is, where it stands, its last log lines and its result."""

    url = serializers.SerializerMethodField()
    cancel_url = serializers.SerializerMethodField()
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Job
        fields = [
            "id", "url", "kind", "status", "backend", "parameters", "dataset", "model_version",
            "progress", "log_tail", "result", "result_model", "error", "cancel_requested",
            "worker", "heartbeat_at", "created_by", "created_at", "started_at", "finished_at",
            "cancel_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Job) -> str:
        path = reverse("jobs:detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_cancel_url(self, obj: Job) -> str:
        path = reverse("jobs:cancel", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path
