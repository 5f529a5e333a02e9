"""The shared app: system checks and the page components every area uses."""

from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "portal.common"
    label = "common"
    verbose_name = "visionkit portal (shared)"

    def ready(self) -> None:
        from django.core.checks import register

        from portal.vendor import check_vendor

        register(check_vendor)
