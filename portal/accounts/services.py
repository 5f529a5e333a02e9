"""Writes of the accounts app: roles and API tokens.

Keyword-only arguments and one transaction each, as every app's services.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from portal.accounts.permissions import Role

if TYPE_CHECKING:
    from portal.accounts.models import User

__all__ = ["issue_token", "revoke_token", "set_role"]

logger = logging.getLogger(__name__)


@transaction.atomic
def set_role(*, user: User, role: Role | None) -> None:
    """Give ``user`` exactly ``role`` (``None``: no role, so no access beyond logging in)."""
    role_groups = Group.objects.filter(name__in=[r.group for r in Role])
    user.groups.remove(*role_groups)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.group))
    logger.info("user %s now has role %s", user.get_username(), role.group if role else "none")


@transaction.atomic
def issue_token(*, user: User) -> Token:
    """The user's API token, made on first use (one per user; the key is never logged)."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        logger.info("API token issued to %s", user.get_username())
    return token


@transaction.atomic
def revoke_token(*, user: User) -> bool:
    """Delete the user's API token; returns whether there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        logger.info("API token of %s revoked", user.get_username())
    return bool(deleted)
