"""API tokens: a user name and password buy one, DELETE revokes it, guessing is throttled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from portal.accounts.models import User

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def test_credentials_buy_a_token_that_authenticates(operator: User, password: str) -> None:
    client = APIClient()
    answer = client.post(TOKEN_URL, {"username": "operator", "password": password}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["username"] == "operator"
    assert body["role"] == "operator"
    assert len(body["token"]) == 40
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = client.get("/api/auth/me/").json()
    assert me["role"] == "operator"
    assert "predict" in me["capabilities"]
    assert "promote" not in me["capabilities"]
    again = APIClient().post(TOKEN_URL, {"username": "operator", "password": password})
    assert again.json()["token"] == body["token"], "one token per user"


def test_wrong_credentials_say_so_without_naming_which(operator: User) -> None:
    answer = APIClient().post(TOKEN_URL, {"username": "operator", "password": "nope"})
    assert answer.status_code == 400
    assert "user name or password is wrong" in answer.content.decode()


def test_revoking_a_token_locks_it_out(operator: User, password: str) -> None:
    client = APIClient()
    token = client.post(TOKEN_URL, {"username": "operator", "password": password}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.delete(TOKEN_URL).status_code == 204
    assert client.get("/api/auth/me/").status_code == 401


def test_anonymous_calls_get_401_with_the_scheme() -> None:
    for answer in (APIClient().delete(TOKEN_URL), APIClient().get("/api/auth/me/")):
        assert answer.status_code == 401
        assert answer["WWW-Authenticate"] == "Token"


def test_token_requests_are_throttled(
    operator: User, password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    client = APIClient()
    codes = [
        client.post(TOKEN_URL, {"username": "operator", "password": "x"}).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 400]
    blocked = client.post(TOKEN_URL, {"username": "operator", "password": password})
    assert blocked.status_code == 429
    assert "throttled" in blocked.content.decode().lower()
