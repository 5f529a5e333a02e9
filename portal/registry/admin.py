"""The registry admin: versions to look at, stage changes nobody can edit or delete.

Stages change through the services (the API, the pages, ``manage.py promote``),
which write the audit trail; the admin shows them read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from portal.registry.models import ModelVersion, StageChange


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(_ReadOnly):
    list_display = ("name", "version", "stage", "architecture", "registered_by", "registered_at")
    list_filter = ("name", "stage")
    search_fields = ("name", "version", "sha256", "mlflow_run_id")


@admin.register(StageChange)
class StageChangeAdmin(_ReadOnly):
    list_display = ("model_version", "from_stage", "to_stage", "changed_by", "changed_at", "reason")
    list_filter = ("to_stage",)
