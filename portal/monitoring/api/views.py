"""The monitoring API: drift reports (and a check on demand), alerts, live accuracy."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import Capability, ReadOrCapability
from portal.common.errors import Conflict
from portal.monitoring import accuracy
from portal.monitoring.api.serializers import (
    AlertSerializer,
    DriftCheckSerializer,
    DriftReportSerializer,
)
from portal.monitoring.checks import check_drift_now
from portal.monitoring.drift import NotEnoughData
from portal.monitoring.models import Alert, DriftReport
from portal.serving.router import route

__all__ = ["AccuracyView", "AlertList", "DriftList"]


class DriftFilter(django_filters.FilterSet):
    """``?model_version=<id>&drifted=true``."""

    class Meta:
        model = DriftReport
        fields = ["model_version", "drifted"]


class DriftList(generics.ListAPIView[DriftReport]):
    """``GET``: drift reports, newest first. ``POST {model?}``: test drift now."""

    serializer_class = DriftReportSerializer
    permission_classes = [ReadOrCapability]
    write_capability = Capability.RUN_JOBS
    filterset_class = DriftFilter

    def get_queryset(self) -> QuerySet[DriftReport]:
        return DriftReport.objects.all()

    @extend_schema(request=DriftCheckSerializer, responses={201: DriftReportSerializer},
                   summary="Test input drift of a model version now")  # fmt: skip
    def post(self, request: Request) -> Response:
        body = DriftCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = route(model=body.validated_data.get("model")).version
        try:
            report = check_drift_now(version, trigger="demand")
        except NotEnoughData as exc:
            raise Conflict(str(exc)) from exc
        return Response(DriftReportSerializer(report).data, status=201)


class AlertList(generics.ListAPIView[Alert]):
    """Alert episodes, newest first (``?open=true`` for those still open)."""

    serializer_class = AlertSerializer
    permission_classes = [ReadOrCapability]

    def get_queryset(self) -> QuerySet[Alert]:
        alerts = Alert.objects.all()
        if self.request.query_params.get("open") in ("1", "true"):
            alerts = alerts.filter(closed_at=None)
        return alerts


class AccuracyView(APIView):
    """Live tip accuracy of a model version from reviewed tips, by day (``?model=``)."""

    permission_classes = [ReadOrCapability]

    @extend_schema(responses={200: dict}, summary="Live tip accuracy of a model version")
    def get(self, request: Request) -> Response:
        version = route(model=request.query_params.get("model") or None).version
        return Response({
            "model_version": version.pk,
            "by_day": accuracy.by_day(version),
            "latest": accuracy.window(version, 100),
        })  # fmt: skip
