"""The registry admin: versions to look at, stage changes nobody can edit or delete.

Stages change through the services (the API, the pages, ``manage.py promote``),
which write the audit trail; the admin shows them read-only.
"""

from __future__ import annotations

from django.contrib import admin

from portal.common.admin import ReadOnlyAdmin
from portal.registry.models import ModelVersion, StageChange


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "stage", "architecture", "registered_by", "registered_at")
    list_filter = ("name", "stage")
    search_fields = ("name", "version", "sha256", "mlflow_run_id")


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ("model_version", "from_stage", "to_stage", "changed_by", "changed_at", "reason")
    list_filter = ("to_stage",)
