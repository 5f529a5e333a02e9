"""The jobs' pages, under ``/jobs/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.jobs import views

urlpatterns: list[URLPattern] = [
    path("", views.job_list, name="job-list"),
    path("estimate/", views.job_estimate, name="job-estimate"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/status/", views.job_status, name="job-status"),
    path("<int:pk>/cancel/", views.cancel, name="job-cancel"),
]
