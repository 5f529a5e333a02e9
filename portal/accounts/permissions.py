"""The role table, encoded once: who may do what in the portal.

Roles are ordered; each one may do everything the one before it may::

    viewer    read everything: predictions, models, jobs, data sets, monitoring
    operator  also upload and predict, review tips, register data sets and
              models, start and cancel jobs
    approver  also promote and roll back model versions
    admin     everything, and users

A role is a Django group of the same name holding the capabilities below as
permissions of the ``accounts`` app (``accounts.promote``...), created by a
data migration and kept in line on every ``migrate``
(:func:`sync_role_groups`). A superuser is an admin. The API's permission
classes (:func:`require`) and the pages' decorator
(:func:`capability_required`) both read :data:`CAPABILITIES`, so a
capability is granted in one place.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.http import HttpRequest, HttpResponse
    from rest_framework.request import Request
    from rest_framework.views import APIView

__all__ = [
    "CAPABILITIES",
    "Capability",
    "ReadOrCapability",
    "Role",
    "can",
    "capability_required",
    "require",
    "role_of",
    "sync_role_groups",
]


class Role(enum.IntEnum):
    """The portal's roles, each including the ones before it."""

    VIEWER = 1
    OPERATOR = 2
    APPROVER = 3
    ADMIN = 4

    @property
    def group(self) -> str:
        """The Django group that holds this role: its lower-case name."""
        return self.name.lower()


class Capability(enum.StrEnum):
    """What a request may ask for; each is a permission ``accounts.<value>``."""

    READ = "read"
    UPLOAD = "upload"
    PREDICT = "predict"
    REVIEW = "review"
    REGISTER = "register"
    RUN_JOBS = "run_jobs"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    MANAGE_USERS = "manage_users"


#: The least role holding each capability: the whole role table.
CAPABILITIES: dict[Capability, Role] = {
    Capability.READ: Role.VIEWER,
    Capability.UPLOAD: Role.OPERATOR,
    Capability.PREDICT: Role.OPERATOR,
    Capability.REVIEW: Role.OPERATOR,
    Capability.REGISTER: Role.OPERATOR,
    Capability.RUN_JOBS: Role.OPERATOR,
    Capability.PROMOTE: Role.APPROVER,
    Capability.ROLLBACK: Role.APPROVER,
    Capability.MANAGE_USERS: Role.ADMIN,
}

#: Human descriptions, the permissions' names in the admin.
DESCRIPTIONS: dict[Capability, str] = {
    Capability.READ: "Can read predictions, models, jobs, data sets and monitoring",
    Capability.UPLOAD: "Can upload images and data sets",
    Capability.PREDICT: "Can run predictions",
    Capability.REVIEW: "Can review predicted tips",
    Capability.REGISTER: "Can register data sets and model versions",
    Capability.RUN_JOBS: "Can start and cancel jobs",
    Capability.PROMOTE: "Can promote model versions",
    Capability.ROLLBACK: "Can roll back the production model",
    Capability.MANAGE_USERS: "Can manage users and their roles",
}


def capabilities_of(role: Role) -> list[Capability]:
    """Every capability ``role`` holds."""
    return [capability for capability, least in CAPABILITIES.items() if role >= least]


def role_of(user: Any) -> Role | None:
    """The highest role of ``user`` (``ADMIN`` for a superuser), ``None`` for none or anonymous."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    groups = set(user.groups.values_list("name", flat=True))
    held = [role for role in Role if role.group in groups]
    return max(held) if held else None


def can(user: Any, capability: Capability) -> bool:
    """Whether ``user`` holds ``capability`` (through a role, or as a permission given directly)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.has_perm(f"accounts.{capability.value}"))


def require(capability: Capability) -> type[BasePermission]:
    """A DRF permission class admitting users who hold ``capability``.

    Anonymous callers get 401 (authentication is checked first); a logged-in
    user without the capability gets 403 naming the role that has it.
    """

    class HasCapability(BasePermission):
        message = (
            f"this needs the {CAPABILITIES[capability].group} role (capability "
            f"'{capability.value}'); ask a portal admin"
        )

        def has_permission(self, request: Request, view: APIView) -> bool:
            return can(request.user, capability)

    HasCapability.__name__ = f"Can{capability.name.title().replace('_', '')}"
    return HasCapability


class ReadOrCapability(BasePermission):
    """Reads need :attr:`Capability.READ`; writes need the view's ``write_capability``."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        needed = (
            Capability.READ
            if request.method in SAFE_METHODS
            else getattr(view, "write_capability", Capability.MANAGE_USERS)
        )
        self.message = (
            f"this needs the {CAPABILITIES[needed].group} role (capability "
            f"'{needed.value}'); ask a portal admin"
        )
        return can(request.user, needed)


ViewT = TypeVar("ViewT", bound=Callable[..., "HttpResponse"])


def capability_required(capability: Capability) -> Callable[[ViewT], ViewT]:
    """A page decorator: anonymous users go to the login page, others without it get 403."""

    def decorate(view: ViewT) -> ViewT:
        from django.contrib.auth.views import redirect_to_login
        from django.core.exceptions import PermissionDenied

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                raise PermissionDenied(f"this page needs the {CAPABILITIES[capability].group} role")
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def sync_role_groups(apps: Apps) -> None:
    """Make the role groups and capability permissions match :data:`CAPABILITIES`.

    Idempotent; takes an app registry so a data migration can run it with the
    historical models. Permissions given to a group by hand beyond its role
    are left alone.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    content_type_model = apps.get_model("contenttypes", "ContentType")
    content_type, _ = content_type_model.objects.get_or_create(app_label="accounts", model="user")
    permissions = {}
    for capability in Capability:
        permission, _ = permission_model.objects.get_or_create(
            content_type=content_type,
            codename=capability.value,
            defaults={"name": DESCRIPTIONS[capability]},
        )
        permissions[capability] = permission
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role.group)
        group.permissions.add(*(permissions[c] for c in capabilities_of(role)))
