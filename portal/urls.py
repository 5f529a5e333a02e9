"""URL map of the portal: admin, login/logout, the dashboard, health and readiness, ``/api/``.

The API's schema (``/api/schema/``) and its Swagger UI (``/api/docs/``, served from
drf-spectacular-sidecar's static files) are open like ``/healthz``: they describe
the API, they do not call it.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from portal import views

__all__ = ["urlpatterns"]

admin.site.site_header = "visionkit portal"
admin.site.site_title = "visionkit"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("predictions/", include("portal.predictions.page_urls")),
    path("experiments/", include("portal.predictions.experiment_urls")),
    path("models/", include("portal.registry.page_urls")),
    path("jobs/", include("portal.jobs.page_urls")),
    path("datasets/", include("portal.datasets.page_urls")),
    path("calibrations/", include("portal.calibrations.urls")),
    path("monitoring/", include("portal.monitoring.page_urls")),
    path("account/", include("portal.accounts.page_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", include("portal.telemetry.urls")),
    path("api/", views.api_root, name="api-root"),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("api/auth/", include("portal.accounts.urls")),
    path("api/models/", include("portal.registry.urls")),
    path("api/datasets/", include("portal.datasets.urls")),
    path("api/jobs/", include("portal.jobs.urls")),
    path("api/predictions/", include("portal.predictions.urls")),
    path("api/deployments/", include("portal.serving.urls")),
    path("api/monitoring/", include("portal.monitoring.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
