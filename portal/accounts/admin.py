"""The accounts admin: users with their role shown, managed by admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.accounts.models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Django's user admin with the portal role in the list."""

    list_display = ("username", "email", "role_name", "is_active", "is_staff", "last_login")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")

    @admin.display(description="role")
    def role_name(self, user: User) -> Any:
        role = user.role
        return role.group if role else "-"
