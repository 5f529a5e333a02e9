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
from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402

PASSWORD = "a-long-test-password-42"


@pytest.fixture
def password() -> str:
    """The password of every user the fixtures create."""
    return PASSWORD


@pytest.fixture
def operator(django_user_model: type[User]) -> User:
    """An ordinary user of the portal."""
    return django_user_model.objects.create_user("operator", "op@example.org", PASSWORD)


@pytest.fixture
def admin_user_(django_user_model: type[User]) -> User:
    """A staff superuser (pytest-django's ``admin_user`` uses another password)."""
    return django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def operator_client(client: Client, operator: User) -> Client:
    """A client logged in as the operator."""
    client.force_login(operator)
    return client
