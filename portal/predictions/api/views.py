"""The predictions API: predict an image, list and read predictions, fetch their files.

Thin views over :mod:`portal.predictions.services`; reading needs the viewer
role, predicting the operator role (:mod:`portal.accounts.permissions`).
"""

from __future__ import annotations

from pathlib import PurePath

from django.core.files.storage import storages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import Capability, ReadOrCapability, require
from portal.accounts.selectors import acting_user
from portal.predictions import exports, reviews, selectors, services
from portal.predictions.api.serializers import (
    BatchUploadSerializer,
    PredictionSerializer,
    PredictionUploadSerializer,
    ReviewSerializer,
    SaveReviewSerializer,
)
from portal.predictions.filters import PredictionFilter
from portal.predictions.models import Prediction, Source

__all__ = [
    "BatchView",
    "ExportView",
    "MaskView",
    "OverlayView",
    "PredictionDetail",
    "PredictionList",
]


class PredictionList(generics.ListCreateAPIView[Prediction]):
    """List predictions (filtered, paginated), or predict an uploaded image (201)."""

    permission_classes = [ReadOrCapability]
    write_capability = Capability.PREDICT
    serializer_class = PredictionSerializer
    filterset_class = PredictionFilter
    ordering_fields = ["created_at", "confidence", "n_tips", "n_plants", "image_name"]
    ordering = ["-created_at", "-id"]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Prediction]:
        return selectors.predictions()

    @extend_schema(
        request={"multipart/form-data": PredictionUploadSerializer},
        responses={201: PredictionSerializer},
        summary="Predict one plate image",
    )
    def post(self, request: Request) -> Response:
        """Segment the image, find each plant's root tip, and keep the result (synchronous)."""
        body = PredictionUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        upload = data["image"]
        created = services.create_prediction(
            image=upload,
            image_name=upload.name or "image.png",
            user=acting_user(request),
            model_version=data.get("model"),
            calibration=data.get("calibration") or None,
            tta=data["tta"],
            source=Source.API,
            station=data.get("station") or "",
        )
        answer = PredictionSerializer(created, context={"request": request})
        return Response(answer.data, status=status.HTTP_201_CREATED)


class PredictionDetail(generics.RetrieveAPIView[Prediction]):
    """One prediction: its contract, record and file URLs."""

    permission_classes = [ReadOrCapability]
    serializer_class = PredictionSerializer

    def get_queryset(self) -> QuerySet[Prediction]:
        return selectors.predictions()


def _stored_png(name: str, filename: str) -> FileResponse:
    storage = storages["default"]
    if not name or not storage.exists(name):
        raise Http404("the file is no longer in the storage")
    response = FileResponse(storage.open(name, "rb"), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


_PNG = {(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG")}


class OverlayView(APIView):
    """The overlay PNG: masks, tips and starts drawn over the plate."""

    permission_classes = [require(Capability.READ)]

    @extend_schema(responses=_PNG, summary="A prediction's overlay")
    def get(self, request: Request, pk: int) -> FileResponse:
        prediction = generics.get_object_or_404(selectors.predictions(), pk=pk)
        return _stored_png(prediction.overlay, f"{prediction.pk}-overlay.png")


class ImageView(APIView):
    """The input image as it was uploaded (a TIFF comes as PNG, which browsers show)."""

    permission_classes = [require(Capability.READ)]

    @extend_schema(
        responses={(200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="image")},
        summary="A prediction's input image",
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        prediction = generics.get_object_or_404(selectors.predictions(), pk=pk)
        storage = storages["default"]
        if not prediction.image or not storage.exists(prediction.image):
            raise Http404("the input image is no longer in the storage")
        suffix = PurePath(prediction.image).suffix.lower()
        if suffix in _BROWSER_TYPES:
            response: HttpResponseBase = FileResponse(
                storage.open(prediction.image, "rb"), content_type=_BROWSER_TYPES[suffix]
            )
        else:
            with storage.open(prediction.image, "rb") as handle:
                response = HttpResponse(services.browser_png(handle.read()),
                                        content_type="image/png")  # fmt: skip
        response["Content-Disposition"] = f'inline; filename="{prediction.pk}-input{suffix}"'
        return response


#: Input suffixes a browser shows as they are, and their content types.
_BROWSER_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                  ".bmp": "image/bmp"}  # fmt: skip


class MaskView(APIView):
    """One class's mask PNG at the input's size (0 and 255)."""

    permission_classes = [require(Capability.READ)]

    @extend_schema(responses=_PNG, summary="A prediction's mask of one class")
    def get(self, request: Request, pk: int, cls: str) -> FileResponse:
        prediction = generics.get_object_or_404(selectors.predictions(), pk=pk)
        if cls not in prediction.masks:
            raise Http404(f"no {cls!r} mask; the masks are: {', '.join(prediction.mask_classes)}")
        return _stored_png(prediction.masks[cls], f"{prediction.pk}-{cls}.png")


class ReviewView(APIView):
    """The latest review of a prediction (GET), or a new one (POST; 409 if another came first)."""

    permission_classes = [ReadOrCapability]
    write_capability = Capability.REVIEW

    @extend_schema(responses={200: ReviewSerializer}, summary="A prediction's latest review")
    def get(self, request: Request, pk: int) -> Response:
        prediction = generics.get_object_or_404(selectors.predictions(), pk=pk)
        review = reviews.latest_review(prediction)
        if review is None:
            raise Http404("this prediction has not been reviewed yet")
        return Response(ReviewSerializer(review).data)

    @extend_schema(
        request=SaveReviewSerializer, responses={201: ReviewSerializer},
        summary="Review a prediction's tips",
    )  # fmt: skip
    def post(self, request: Request, pk: int) -> Response:
        prediction = generics.get_object_or_404(selectors.predictions(), pk=pk)
        body = SaveReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = reviews.save_review(
            prediction=prediction, entries=body.validated_data["plants"],
            base=body.validated_data["base"], user=acting_user(request),
        )  # fmt: skip
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ExportView(APIView):
    """The prediction written by an output adapter: json, csv, coco, ot2..."""

    permission_classes = [require(Capability.READ)]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, required=True, description="an adapter that writes files"
            ),
            OpenApiParameter("calibration", str, description="calibration preset for ot2"),
        ],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
        summary="Export a prediction",
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        prediction = generics.get_object_or_404(selectors.predictions(), pk=pk)
        done = exports.export(
            prediction,
            request.query_params.get("format", ""),
            calibration=request.query_params.get("calibration") or None,
        )
        response = HttpResponse(done.content, content_type=done.content_type)
        response["Content-Disposition"] = f'attachment; filename="{done.filename}"'
        return response


class BatchView(APIView):
    """Queue a batch of images (a zip, or several files) as a ``predict`` job (202)."""

    permission_classes = [require(Capability.PREDICT)]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": BatchUploadSerializer},
        responses={202: OpenApiResponse(description="the queued job (see GET /api/jobs/{id}/)")},
        summary="Predict a batch of images as a job",
    )
    def post(self, request: Request) -> Response:
        from portal.jobs.api.serializers import JobSerializer

        body = BatchUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = services.create_batch(
            files=data.get("images") or [],
            archive=data.get("file"),
            user=acting_user(request),
            model_version=data.get("model"),
            calibration=data.get("calibration") or None,
            tta=data["tta"],
        )
        job.refresh_from_db()
        answer = JobSerializer(job, context={"request": request})
        return Response(answer.data, status=status.HTTP_202_ACCEPTED)
