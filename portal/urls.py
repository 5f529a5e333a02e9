"""URL map of the portal: admin, login/logout, the dashboard, ``/healthz`` and ``/api/``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from portal import views

__all__ = ["urlpatterns"]

admin.site.site_header = "visionkit portal"
admin.site.site_title = "visionkit"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/", views.api_root, name="api-root"),
    path("api/auth/", include("portal.accounts.urls")),
    path("api/models/", include("portal.registry.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
