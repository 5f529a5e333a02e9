"""What the predictions API takes and answers.

A prediction is answered as the prediction contract of DESIGN.md (image,
width, height, model, dish, masks, confidence, plants, timing_ms, warnings),
exactly as the library gave it, plus ``id``, the portal's record of it and
the absolute URLs of its files and exports.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.accounts.models import User
from portal.predictions.models import Prediction, Review, Verdict

__all__ = ["BatchUploadSerializer", "PredictionSerializer", "PredictionUploadSerializer"]


class PredictionUploadSerializer(serializers.Serializer[Any]):
    """``POST /api/predictions/``: one image and how to predict it."""

    image = serializers.FileField(help_text="a PNG, JPEG, TIFF or BMP plate image")
    model = serializers.CharField(
        required=False,
        help_text="model version: an id, name (its production version), name:version or "
        "name@staging; default: the station's model, else the live production version",
    )
    station = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="the camera or robot station sending it (VISIONKIT_STATION_MODELS)",
    )  # fmt: skip
    calibration = serializers.CharField(
        required=False, allow_blank=True, help_text="calibration preset, e.g. ot2: fills robot"
    )
    tta = serializers.BooleanField(default=False, help_text="test-time augmentation")


class BatchUploadSerializer(serializers.Serializer[Any]):
    """``POST /api/predictions/batch/``: a zip of images, or several ``images``."""

    file = serializers.FileField(required=False, help_text="a zip of plate images")
    images = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="several plate images"
    )
    model = serializers.CharField(required=False, help_text="as for one prediction")
    calibration = serializers.CharField(required=False, allow_blank=True)
    tta = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("file") and not attrs.get("images"):
            raise serializers.ValidationError("send a zip as `file` or images as `images`")
        return attrs


def _absolute(request: Any, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class PredictionSerializer(serializers.ModelSerializer[Prediction]):
    """A prediction: the contract's fields, the portal's record and the file URLs."""

    image = serializers.CharField(source="image_name", read_only=True)
    model = serializers.JSONField(source="contract.model", read_only=True)
    dish = serializers.JSONField(source="contract.dish", read_only=True, allow_null=True)
    masks = serializers.JSONField(source="contract.masks", read_only=True)
    confidence = serializers.JSONField(source="contract.confidence", read_only=True)
    plants = serializers.JSONField(source="contract.plants", read_only=True)
    timing_ms = serializers.JSONField(source="contract.timing_ms", read_only=True)
    warnings = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    overlay_url = serializers.SerializerMethodField()
    mask_urls = serializers.SerializerMethodField()
    export_urls = serializers.SerializerMethodField()
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Prediction
        fields = [
            "id", "url", "image", "width", "height", "model", "dish", "masks", "confidence",
            "plants", "timing_ms", "warnings", "model_version", "source", "station", "served_as",
            "job", "n_plants",
            "n_tips", "experiment", "plate", "condition", "replicate", "input_stats",
            "overlay_url", "mask_urls", "export_urls", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _request(self) -> Any:
        return self.context.get("request")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, obj: Prediction) -> list[str]:
        return list(obj.contract.get("warnings", []))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Prediction) -> str:
        return _absolute(self._request(), reverse("predictions:detail", args=[obj.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_overlay_url(self, obj: Prediction) -> str:
        return _absolute(self._request(), reverse("predictions:overlay", args=[obj.pk]))

    @extend_schema_field(serializers.DictField(child=serializers.URLField()))
    def get_mask_urls(self, obj: Prediction) -> dict[str, str]:
        return {
            cls: _absolute(self._request(), reverse("predictions:mask", args=[obj.pk, cls]))
            for cls in obj.mask_classes
        }

    @extend_schema_field(serializers.DictField(child=serializers.URLField()))
    def get_export_urls(self, obj: Prediction) -> dict[str, str]:
        from portal.predictions.exports import file_formats

        base = reverse("predictions:export", args=[obj.pk])
        return {fmt: _absolute(self._request(), f"{base}?format={fmt}") for fmt in file_formats()}


class ReviewPointSerializer(serializers.Serializer[Any]):
    """A tip in input pixels."""

    x = serializers.FloatField()
    y = serializers.FloatField()


class ReviewEntrySerializer(serializers.Serializer[Any]):
    """One plant's verdict: accepted, rejected, moved (with ``tip``) or added (with ``tip``)."""

    plant = serializers.IntegerField(min_value=1)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    tip = ReviewPointSerializer(required=False, allow_null=True)


class SaveReviewSerializer(serializers.Serializer[Any]):
    """``POST /api/predictions/{id}/review/``: the verdicts, and the review they started from."""

    base = serializers.IntegerField(
        min_value=0, help_text="the review number you started from; 0: none"
    )
    plants = ReviewEntrySerializer(many=True)


class ReviewSerializer(serializers.ModelSerializer[Review]):
    """A saved review."""

    reviewed_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Review
        fields = ["id", "prediction", "number", "plants", "reviewed_by", "created_at"]
