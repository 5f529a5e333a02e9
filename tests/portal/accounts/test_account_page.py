"""The account page: a token shown once when made, revoked for good, the password changed."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal.accounts.models import User
from tests.portal.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_opens_the_api(operator: User) -> None:
    client = Client()
    client.force_login(operator)
    assert "You have no token" in client.get("/account/").content.decode()
    page = client.post("/account/token/", follow=True).content.decode()
    key = Token.objects.get(user=operator).key
    assert key in page
    assert key not in client.get("/account/").content.decode(), "a token is shown only once"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/auth/me/").status_code == 200

    client.post("/account/token/")
    assert Token.objects.get(user=operator).key != key
    assert api.get("/api/auth/me/").status_code == 401, "the old token must stop working"
    client.post("/account/token/revoke/")
    assert not Token.objects.filter(user=operator).exists()


def test_the_password_changes_with_the_old_one_and_a_bad_one_is_explained(
    viewer: User,
) -> None:
    client = Client()
    client.force_login(viewer)
    wrong = client.post("/account/password/", {"old_password": "nope", "new_password1": "x",
                                               "new_password2": "y"})  # fmt: skip
    assert wrong.status_code == 400
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    new = "a-brand-new-password-77"
    done = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": new,
                                              "new_password2": new}, follow=True)  # fmt: skip
    assert "Your password is changed" in done.content.decode()
    assert client.get("/account/").status_code == 200, "the session stays logged in"
    viewer.refresh_from_db()
    assert viewer.check_password(new)
