"""The serving API: read deployments; set a challenger's canary or shadow traffic.

Switching the live slot is the registry's promote and rollback
(``/api/models/{id}/promote/``, ``/api/models/rollback/``), which approvers do.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import Capability, ReadOrCapability, require
from portal.accounts.selectors import acting_user
from portal.registry.models import ModelVersion
from portal.serving import services
from portal.serving.api.serializers import DeploymentSerializer, TrafficSerializer
from portal.serving.models import Deployment

__all__ = ["DeploymentDetail", "DeploymentList", "TrafficView"]


def _deployments() -> QuerySet[Deployment]:
    return Deployment.objects.select_related("blue", "green", "challenger")


class DeploymentList(generics.ListAPIView[Deployment]):
    """Every deployment with its slots, generation and challenger."""

    serializer_class = DeploymentSerializer
    permission_classes = [ReadOrCapability]

    def get_queryset(self) -> QuerySet[Deployment]:
        return _deployments()


class DeploymentDetail(generics.RetrieveAPIView[Deployment]):
    """One deployment, by model name."""

    serializer_class = DeploymentSerializer
    permission_classes = [ReadOrCapability]
    lookup_field = "name"

    def get_queryset(self) -> QuerySet[Deployment]:
        return _deployments()


class TrafficView(APIView):
    """``POST {mode, share, version, reason}``: canary, shadow or off for a staging version."""

    permission_classes = [require(Capability.PROMOTE)]

    @extend_schema(request=TrafficSerializer, responses={200: DeploymentSerializer},
                   summary="Give a staging version canary or shadow traffic")  # fmt: skip
    def post(self, request: Request, name: str) -> Response:
        body = TrafficSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = None
        if data.get("version") is not None:
            version = generics.get_object_or_404(ModelVersion.objects.all(), pk=data["version"])
        deployment = services.set_traffic(
            version=version, name=name, mode=data["mode"], share=data["share"],
            user=acting_user(request), reason=data["reason"],
        )  # fmt: skip
        return Response(DeploymentSerializer(deployment).data)
