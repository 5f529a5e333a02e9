"""The portal's user: Django's, with its role read from the role groups.

A custom user model from the first migration, so fields can be added later
without the painful switch Django documents for projects that start without
one.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser

from portal.accounts.permissions import DESCRIPTIONS, Capability, Role, role_of

__all__ = ["User"]


class User(AbstractUser):
    """A person (or a robot's service account) using the portal."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [(c.value, DESCRIPTIONS[c]) for c in Capability]

    @property
    def role(self) -> Role | None:
        """The highest role held (see :mod:`portal.accounts.permissions`)."""
        return role_of(self)
