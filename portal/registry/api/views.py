"""The registry API: list and read model versions, promote one, roll production back.

Thin views over :mod:`portal.registry.services` and
:mod:`portal.registry.selectors`; the role table decides who may do what
(reading: viewer; promoting and rolling back: approver).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import Capability, ReadOrCapability, require
from portal.accounts.selectors import acting_user
from portal.jobs.api.serializers import JobSerializer
from portal.registry import selectors, services
from portal.registry.api.serializers import (
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    PromoteSerializer,
    RegisterSerializer,
    RollbackSerializer,
)
from portal.registry.models import ModelVersion

__all__ = ["ModelVersionDetail", "ModelVersionList", "PromoteView", "RollbackView"]


class ModelVersionFilter(django_filters.FilterSet):
    """``?name=root-unet&stage=production&architecture=unet&registered_after=...``."""

    registered_after = django_filters.IsoDateTimeFilter(
        field_name="registered_at", lookup_expr="gte"
    )
    registered_before = django_filters.IsoDateTimeFilter(
        field_name="registered_at", lookup_expr="lt"
    )

    class Meta:
        model = ModelVersion
        fields = ["name", "stage", "architecture", "dataset_version", "mlflow_run_id"]


class ModelVersionList(generics.ListCreateAPIView[ModelVersion]):
    """List model versions, or register one from a model-folder zip or a training job (201)."""

    permission_classes = [ReadOrCapability]
    write_capability = Capability.REGISTER
    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    ordering_fields = ["registered_at", "stage_changed_at", "name", "version"]
    ordering = ["-registered_at", "-id"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return selectors.model_versions()

    @extend_schema(
        request={"multipart/form-data": RegisterSerializer, "application/json": RegisterSerializer},
        responses={201: ModelVersionDetailSerializer},
        summary="Register a model version",
    )
    def post(self, request: Request) -> Response:
        """Check the archive (never unpickled) or the job, and register a candidate."""
        body = RegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        options = {
            "user": acting_user(request),
            "name": data.get("name"),
            "version": data.get("version"),
        }
        if data.get("file"):
            created = services.register_model_archive(upload=data["file"], **options)
        else:
            from portal.jobs.selectors import jobs

            job = generics.get_object_or_404(jobs(), pk=data["job"])
            created = services.register_from_job(job=job, **options)
        return Response(ModelVersionDetailSerializer(created).data, status=status.HTTP_201_CREATED)


class ModelVersionDetail(generics.RetrieveAPIView[ModelVersion]):
    """One model version with its config, metrics, lineage and audit trail."""

    permission_classes = [ReadOrCapability]
    serializer_class = ModelVersionDetailSerializer

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return selectors.model_versions().prefetch_related(
            "stage_changes__changed_by", "gate_checks__baseline", "gate_checks__dataset",
            "evaluations__dataset",
        )  # fmt: skip


class GateView(APIView):
    """``POST``: queue the version's gate job (it against production on the held-out set)."""

    permission_classes = [require(Capability.RUN_JOBS)]

    @extend_schema(request=None, responses={202: JobSerializer},
                   summary="Gate a candidate against production")  # fmt: skip
    def post(self, request: Request, pk: int) -> Response:
        from portal.registry.gates import submit_gate

        version = generics.get_object_or_404(selectors.model_versions(), pk=pk)
        job = submit_gate(candidate=version, user=acting_user(request))
        return Response(JobSerializer(job, context={"request": request}).data, status=202)


class PromoteView(APIView):
    """``POST {stage, reason}``: move the version; a new production version archives the old."""

    permission_classes = [require(Capability.PROMOTE)]

    @extend_schema(request=PromoteSerializer, responses={200: ModelVersionSerializer},
                   summary="Move a model version to a stage")  # fmt: skip
    def post(self, request: Request, pk: int) -> Response:
        body = PromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = generics.get_object_or_404(selectors.model_versions(), pk=pk)
        moved = services.promote(
            model_version=version, user=acting_user(request), **body.validated_data
        )
        return Response(ModelVersionSerializer(moved).data)


class RollbackView(APIView):
    """``POST {reason, name?}``: the previous production version back in production."""

    permission_classes = [require(Capability.ROLLBACK)]

    @extend_schema(request=RollbackSerializer, responses={200: ModelVersionSerializer},
                   summary="Roll production back to the previous version")  # fmt: skip
    def post(self, request: Request) -> Response:
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data.get("name") or _only_name()
        restored = services.rollback(
            name=name, reason=body.validated_data["reason"], user=acting_user(request)
        )
        return Response(ModelVersionSerializer(restored).data)


def _only_name() -> str:
    names = sorted(set(selectors.model_versions().values_list("name", flat=True)))
    if len(names) != 1:
        raise ValidationError(
            {"name": f"give the model name to roll back; registered: {', '.join(names) or 'none'}"}
        )
    return names[0]
