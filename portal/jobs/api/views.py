"""The jobs API: submit a job, list and read jobs, cancel one, price one before submitting.

Thin views over :mod:`portal.jobs.services`; reading needs the viewer role,
submitting and cancelling the operator role. Pricing a job changes nothing,
so it needs only the viewer role, as the start form's estimate line does.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import Capability, ReadOrCapability, require
from portal.accounts.selectors import acting_user
from portal.common.errors import PortalError
from portal.jobs import estimates, selectors, services
from portal.jobs.api.serializers import EstimateSerializer, JobSerializer, SubmitJobSerializer
from portal.jobs.models import Job

__all__ = ["CancelJob", "EstimateJob", "JobDetail", "JobList"]


class JobFilter(django_filters.FilterSet):
    """``?kind=train&status=running&dataset=3&model=2&created_after=...``."""

    model = django_filters.NumberFilter(field_name="model_version")
    created_by = django_filters.CharFilter(field_name="created_by__username")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ["kind", "status", "backend", "dataset"]


class JobList(generics.ListCreateAPIView[Job]):
    """List jobs, or submit one (201; it runs in a django-q2 worker)."""

    permission_classes = [ReadOrCapability]
    write_capability = Capability.RUN_JOBS
    serializer_class = JobSerializer
    filterset_class = JobFilter
    ordering_fields = ["created_at", "started_at", "finished_at", "status", "kind"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Job]:
        return selectors.jobs()

    @extend_schema(
        request=SubmitJobSerializer, responses={201: JobSerializer}, summary="Submit a job"
    )
    def post(self, request: Request) -> Response:
        """Check the job and queue it; unknown parameters are refused naming them."""
        body = SubmitJobSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = services.submit_job(
            kind=data["kind"],
            user=acting_user(request),
            dataset=data.get("dataset"),
            model_version=data.get("model"),
            parameters=data.get("parameters") or {},
            backend=data["backend"],
        )
        job.refresh_from_db()
        return Response(JobSerializer(job, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)  # fmt: skip


class JobDetail(generics.RetrieveAPIView[Job]):
    """One job: status, progress 0-1, the last log lines, the result."""

    permission_classes = [ReadOrCapability]
    serializer_class = JobSerializer

    def get_queryset(self) -> QuerySet[Job]:
        return selectors.jobs()


class CancelJob(APIView):
    """Cancel a job: at once when queued, within seconds when running; 409 when it has ended."""

    permission_classes = [require(Capability.RUN_JOBS)]

    @extend_schema(request=None, responses={200: JobSerializer}, summary="Cancel a job")
    def post(self, request: Request, pk: int) -> Response:
        job = generics.get_object_or_404(selectors.jobs(), pk=pk)
        cancelled = services.cancel_job(job=job, user=acting_user(request))
        return Response(JobSerializer(cancelled, context={"request": request}).data)


class EstimateJob(APIView):
    """What a job would cost, from the body that would submit it; nothing is queued."""

    permission_classes = [require(Capability.READ)]

    @extend_schema(
        request=SubmitJobSerializer,
        responses={200: EstimateSerializer},
        summary="Estimate a training job's cost",
        description="The planned compute, hours and USD of the job this body would submit "
        "(prices from the table in settings, VISIONKIT_PRICE_TABLE over the dated defaults). "
        "The same checks as submitting: unknown or bad parameters, or a VM size the table "
        "does not price, are a 400; only training jobs are priced.",
    )
    def post(self, request: Request) -> Response:
        body = SubmitJobSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["kind"] != "train":
            raise PortalError(f"only training jobs are priced, not a {data['kind']} job")
        planned = estimates.planned_cost(data.get("parameters") or {})
        return Response(EstimateSerializer(planned).data)
