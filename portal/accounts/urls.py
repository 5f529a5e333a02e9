"""URLs of the accounts API, under ``/api/auth/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.accounts.api import views

app_name = "accounts"

urlpatterns: list[URLPattern] = [
    path("token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
]
