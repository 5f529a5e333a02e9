"""Jobs in the admin: read-only rows, with a cancel action that calls the service."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.accounts.selectors import acting_user
from portal.common.admin import ReadOnlyAdmin
from portal.common.errors import PortalError
from portal.jobs import services
from portal.jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """What ran, where it stands; jobs change only through their worker and the services."""

    list_display = ("id", "kind", "status", "progress", "dataset", "model_version",
                    "created_by", "created_at", "finished_at")  # fmt: skip
    list_filter = ("kind", "status", "backend")
    actions = ["cancel"]

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        """Cancel each selected job that has not ended."""
        for job in queryset:
            try:
                services.cancel_job(job=job, user=acting_user(request))
            except PortalError as exc:
                self.message_user(request, str(exc), messages.WARNING)
