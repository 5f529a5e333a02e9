"""What the datasets API takes and answers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.accounts.models import User
from portal.datasets.models import DatasetVersion

__all__ = ["DatasetDetailSerializer", "DatasetSerializer", "DatasetUploadSerializer"]


class DatasetUploadSerializer(serializers.Serializer[Any]):
    """``POST /api/datasets/``: a zip of plates in the Hades mask convention."""

    file = serializers.FileField(help_text="a zip of images and their masks")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)


class DatasetSerializer(serializers.ModelSerializer[DatasetVersion]):
    """A data set version as lists show it."""

    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = DatasetVersion
        fields = ["id", "version", "name", "description", "n_images", "n_masks", "size_bytes",
                  "warnings", "created_by", "created_at"]  # fmt: skip
        read_only_fields = fields


class DatasetDetailSerializer(DatasetSerializer):
    """A data set version with its manifest (every file, its size and sha256)."""

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "prefix", "manifest"]
        read_only_fields = fields
