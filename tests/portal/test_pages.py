"""Login, the dashboard, the health check and the API root, as a user meets them."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from portal.accounts.models import User
from visionkit import __version__

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_from_home_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_shows_the_form(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_user_logs_in_and_lands_on_the_dashboard(
    client: Client, operator: User, password: str
) -> None:
    response = client.post(
        "/accounts/login/", {"username": "operator", "password": password, "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert b"Dashboard" in page.content


def test_wrong_password_is_refused(client: Client, operator: User) -> None:
    response = client.post("/accounts/login/", {"username": "operator", "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert client.get("/").status_code == 302


def test_logged_in_user_sees_the_visionkit_version(operator_client: Client) -> None:
    response = operator_client.get("/")
    assert response.status_code == 200
    assert f"visionkit {__version__}".encode() in response.content
    assert b"operator" in response.content
    assert b"/admin/" not in response.content  # not staff: no admin link


def test_staff_see_links_to_the_admin(client: Client, admin_user_: User) -> None:
    client.force_login(admin_user_)
    response = client.get("/")
    assert b'href="/admin/"' in response.content
    assert client.get("/admin/").status_code == 200


def test_logout_is_a_post_and_ends_the_session(operator_client: Client) -> None:
    response = operator_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert operator_client.get("/").status_code == 302


def test_healthz_answers_without_login(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_api_root_refuses_anonymous_callers(client: Client) -> None:
    response = client.get("/api/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_api_root_answers_a_logged_in_session(operator_client: Client) -> None:
    response = operator_client.get("/api/")
    assert response.status_code == 200
    body = response.json()
    assert body["visionkit"] == __version__
    assert body["user"] == "operator"
    assert body["endpoints"]["healthz"].endswith("/healthz")


def test_api_root_answers_a_token(client: Client, operator: User) -> None:
    token = Token.objects.create(user=operator)
    response = client.get("/api/", headers={"Authorization": f"Token {token.key}"})
    assert response.status_code == 200
    assert response.json()["user"] == "operator"
    bad = client.get("/api/", headers={"Authorization": "Token not-a-token"})
    assert bad.status_code == 401
