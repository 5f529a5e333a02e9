"""The account pages, under ``/account/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.accounts import views

urlpatterns: list[URLPattern] = [
    path("", views.account, name="account"),
    path("token/", views.new_token, name="account-token"),
    path("token/revoke/", views.revoke_token, name="account-token-revoke"),
    path("password/", views.change_password, name="account-password"),
]
