"""The registry API: list and read model versions, promote one, roll production back.

Thin views over :mod:`portal.registry.services` and
:mod:`portal.registry.selectors`; the role table decides who may do what
(reading: viewer; promoting and rolling back: approver).
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import Capability, ReadOrCapability, require
from portal.registry import selectors, services
from portal.registry.api.serializers import (
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    PromoteSerializer,
    RollbackSerializer,
)
from portal.registry.models import ModelVersion

__all__ = ["ModelVersionDetail", "ModelVersionList", "PromoteView", "RollbackView"]


class Conflict(APIException):
    """The request clashes with the registry's state (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _refused(exc: services.RegistryError) -> APIException:
    return Conflict(str(exc)) if exc.conflict else ValidationError({"detail": str(exc)})


class ModelVersionList(generics.ListAPIView[ModelVersion]):
    """Every model version, newest first per name; ``?name=`` and ``?stage=`` filter."""

    permission_classes = [ReadOrCapability]
    serializer_class = ModelVersionSerializer

    def get_queryset(self) -> QuerySet[ModelVersion]:
        versions = selectors.model_versions()
        for key in ("name", "stage"):
            value = self.request.query_params.get(key)
            if value:
                versions = versions.filter(**{key: value})
        return versions


class ModelVersionDetail(generics.RetrieveAPIView[ModelVersion]):
    """One model version with its config, metrics, lineage and audit trail."""

    permission_classes = [ReadOrCapability]
    serializer_class = ModelVersionDetailSerializer

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return selectors.model_versions().prefetch_related("stage_changes__changed_by")


class PromoteView(APIView):
    """``POST {stage, reason}``: move the version; a new production version archives the old."""

    permission_classes = [require(Capability.PROMOTE)]

    def post(self, request: Request, pk: int) -> Response:
        body = PromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = generics.get_object_or_404(selectors.model_versions(), pk=pk)
        try:
            moved = services.promote(
                model_version=version, user=request.user, **body.validated_data
            )
        except services.RegistryError as exc:
            raise _refused(exc) from exc
        return Response(ModelVersionSerializer(moved).data)


class RollbackView(APIView):
    """``POST {reason, name?}``: the previous production version back in production."""

    permission_classes = [require(Capability.ROLLBACK)]

    def post(self, request: Request) -> Response:
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data.get("name") or _only_name()
        try:
            restored = services.rollback(
                name=name, reason=body.validated_data["reason"], user=request.user
            )
        except services.RegistryError as exc:
            raise _refused(exc) from exc
        return Response(ModelVersionSerializer(restored).data)


def _only_name() -> str:
    names = sorted(set(selectors.model_versions().values_list("name", flat=True)))
    if len(names) != 1:
        raise ValidationError(
            {"name": f"give the model name to roll back; registered: {', '.join(names) or 'none'}"}
        )
    return names[0]
