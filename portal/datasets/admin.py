"""Data set versions in the admin: read-only, they are named by their content."""

from __future__ import annotations

from django.contrib import admin

from portal.common.admin import ReadOnlyAdmin
from portal.datasets.models import DatasetVersion


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    """List and read data set versions; editing one would break its version name."""

    list_display = ("id", "name", "version", "n_images", "n_masks", "size_bytes",
                    "created_by", "created_at")  # fmt: skip
    search_fields = ("name", "version", "description")
