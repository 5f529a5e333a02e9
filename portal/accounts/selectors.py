"""Reads of the accounts app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated

from portal.accounts.models import User
from portal.accounts.permissions import Role, capabilities_of, role_of

__all__ = ["acting_user", "capabilities", "profile", "users_with_role"]


def users_with_role(role: Role) -> QuerySet[Any]:
    """Active users in ``role``'s group, by user name."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role.group)
        .order_by("username")
        .prefetch_related("groups")
    )


def profile(user: Any) -> dict[str, Any]:
    """Who a user is to the portal: name, role and what the role may do."""
    role = role_of(user)
    return {
        "username": user.get_username(),
        "role": role.group if role else None,
        "capabilities": [c.value for c in capabilities_of(role)] if role else [],
        "is_staff": bool(user.is_staff),
    }


def acting_user(request: HttpRequest) -> User:
    """The logged-in user behind ``request``, for the services that record who acted.

    Every route that writes is behind a permission class that already refused
    anonymous callers; this check makes that explicit for the type checker and
    for any route that forgets.
    """
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated("log in or send an API token to do this")
    return user


def capabilities(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``can.<capability>`` for the templates (``{% if can.promote %}``)."""
    from portal.accounts.permissions import Capability, can

    user = getattr(request, "user", None)
    return {"can": {capability.value: can(user, capability) for capability in Capability}}
