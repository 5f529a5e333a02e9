"""URLs of the jobs API, under ``/api/jobs/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.jobs.api import views

app_name = "jobs"

urlpatterns: list[URLPattern] = [
    path("", views.JobList.as_view(), name="list"),
    path("estimate/", views.EstimateJob.as_view(), name="estimate"),
    path("<int:pk>/", views.JobDetail.as_view(), name="detail"),
    path("<int:pk>/cancel/", views.CancelJob.as_view(), name="cancel"),
]
