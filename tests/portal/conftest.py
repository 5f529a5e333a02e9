"""Django for the portal tests: settings, users and clients.

pytest-django normally takes the settings module from ``[tool.pytest.ini_options]``
(``DJANGO_SETTINGS_MODULE = "portal.settings"``); setting it here as well lets
``pytest tests/portal`` run on its own. The environment is the one the portal
runs with in production except for a fixed test key, inline job execution and no HTTPS redirect.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("VISIONKIT_SECRET_KEY", "test-only-key-" + "x" * 40)
os.environ.setdefault("VISIONKIT_Q_SYNC", "1")
# The test client speaks plain HTTP; test_security.py checks the redirect itself.
os.environ.setdefault("VISIONKIT_SSL_REDIRECT", "0")
django.setup()

import pytest  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.accounts.permissions import Role  # noqa: E402
from portal.accounts.services import set_role  # noqa: E402

PASSWORD = "a-long-test-password-42"

#: Every seeded user's name -> role (``None``: a logged-in stranger with no role).
SEEDED: dict[str, Role | None] = {
    "viewer": Role.VIEWER,
    "operator": Role.OPERATOR,
    "approver": Role.APPROVER,
    "admin": Role.ADMIN,
    "stranger": None,
}


@pytest.fixture
def password() -> str:
    """The password of every user the fixtures create."""
    return PASSWORD


def _user(name: str) -> User:
    user = get_user_model().objects.create_user(name, f"{name}@example.org", PASSWORD)
    set_role(user=user, role=SEEDED[name])
    return user


@pytest.fixture
def viewer(db: None) -> User:
    """A user with the viewer role: reads everything."""
    return _user("viewer")


@pytest.fixture
def operator(db: None) -> User:
    """A user with the operator role: also uploads, predicts, registers, runs jobs."""
    return _user("operator")


@pytest.fixture
def approver(db: None) -> User:
    """A user with the approver role: also promotes and rolls back models."""
    return _user("approver")


@pytest.fixture
def admin(db: None) -> User:
    """A user with the admin role (not a superuser): also manages users."""
    return _user("admin")


@pytest.fixture
def stranger(db: None) -> User:
    """A logged-in user with no role at all."""
    return _user("stranger")


@pytest.fixture
def users(
    viewer: User, operator: User, approver: User, admin: User, stranger: User
) -> dict[str, User]:
    """One user of each role, by name."""
    return {u.get_username(): u for u in (viewer, operator, approver, admin, stranger)}


@pytest.fixture
def admin_user_(db: None) -> User:
    """A staff superuser (pytest-django's ``admin_user`` uses another password)."""
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def operator_client(client: Client, operator: User) -> Client:
    """A client logged in as the operator."""
    client.force_login(operator)
    return client
