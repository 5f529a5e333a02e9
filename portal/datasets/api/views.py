"""The datasets API: list and read data set versions, upload a new one.

Thin views over :mod:`portal.datasets.services`; reading needs the viewer
role, uploading the operator role.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from portal.accounts.permissions import Capability, ReadOrCapability
from portal.accounts.selectors import acting_user
from portal.datasets import selectors, services
from portal.datasets.api.serializers import (
    DatasetDetailSerializer,
    DatasetSerializer,
    DatasetUploadSerializer,
)
from portal.datasets.models import DatasetVersion

__all__ = ["DatasetDetail", "DatasetList"]


class DatasetFilter(django_filters.FilterSet):
    """``?name=...&version=<prefix>&created_by=operator&created_after=...``."""

    name = django_filters.CharFilter(lookup_expr="icontains")
    version = django_filters.CharFilter(lookup_expr="startswith")
    created_by = django_filters.CharFilter(field_name="created_by__username")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = DatasetVersion
        fields: list[str] = []


class DatasetList(generics.ListCreateAPIView[DatasetVersion]):
    """List data set versions, or upload a zip (201 new, 200 when the same files are stored)."""

    permission_classes = [ReadOrCapability]
    write_capability = Capability.UPLOAD
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    ordering_fields = ["created_at", "name", "n_images", "size_bytes"]
    ordering = ["-created_at", "-id"]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[DatasetVersion]:
        return selectors.datasets()

    @extend_schema(
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={201: DatasetDetailSerializer, 200: DatasetDetailSerializer},
        summary="Upload a data set zip",
    )
    def post(self, request: Request) -> Response:
        """Check the zip against the Hades mask convention and store it as a version."""
        body = DatasetUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dataset, created = services.create_dataset_from_zip(
            upload=data["file"], name=data.get("name", ""),
            description=data.get("description", ""), user=acting_user(request),
        )  # fmt: skip
        answer = DatasetDetailSerializer(dataset).data
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DatasetDetail(generics.RetrieveAPIView[DatasetVersion]):
    """One data set version with its manifest and warnings."""

    permission_classes = [ReadOrCapability]
    serializer_class = DatasetDetailSerializer

    def get_queryset(self) -> QuerySet[DatasetVersion]:
        return selectors.datasets()
