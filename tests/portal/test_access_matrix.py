"""Who may call what: every operation in the OpenAPI schema and every page, for every role.

The expected capability of each route is written out by hand below from the
role table of DESIGN.md; the test walks the *generated* schema and the URL
map, so a route added without an entry here fails, and a route whose
permission drifts from the table fails. A request that is allowed may still
be refused for its content (400 for an empty body, 404 for a missing
object): "allowed" means neither 401 nor 403.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.accounts.permissions import CAPABILITIES, Capability, Role, role_of

pytestmark = pytest.mark.django_db

#: Open to anyone, by design: the token exchange (credentials are the check).
OPEN: set[tuple[str, str]] = {("POST", "/api/auth/token/")}

#: Any logged-in user, even one without a role: who am I, and revoking one's own token.
SELF: set[tuple[str, str]] = {("GET", "/api/auth/me/"), ("DELETE", "/api/auth/token/")}

_R, _UP, _PR = Capability.READ, Capability.UPLOAD, Capability.PREDICT
_REG, _JOBS = Capability.REGISTER, Capability.RUN_JOBS

#: (method, schema path) -> the capability it needs: the role table, route by route.
API: dict[tuple[str, str], Capability] = {
    ("GET", "/api/"): _R,
    ("GET", "/api/models/"): _R,
    ("POST", "/api/models/"): _REG,
    ("GET", "/api/models/{id}/"): _R,
    ("POST", "/api/models/{id}/promote/"): Capability.PROMOTE,
    ("POST", "/api/models/{id}/gate/"): _JOBS,
    ("GET", "/api/deployments/"): _R,
    ("GET", "/api/deployments/{name}/"): _R,
    ("POST", "/api/deployments/{name}/traffic/"): Capability.PROMOTE,
    ("GET", "/api/monitoring/drift/"): _R,
    ("POST", "/api/monitoring/drift/"): _JOBS,
    ("GET", "/api/monitoring/alerts/"): _R,
    ("GET", "/api/monitoring/accuracy/"): _R,
    ("POST", "/api/models/rollback/"): Capability.ROLLBACK,
    ("GET", "/api/datasets/"): _R,
    ("POST", "/api/datasets/"): _UP,
    ("GET", "/api/datasets/{id}/"): _R,
    ("GET", "/api/jobs/"): _R,
    ("POST", "/api/jobs/"): _JOBS,
    ("POST", "/api/jobs/estimate/"): _R,
    ("GET", "/api/jobs/{id}/"): _R,
    ("POST", "/api/jobs/{id}/cancel/"): _JOBS,
    ("GET", "/api/predictions/"): _R,
    ("POST", "/api/predictions/"): _PR,
    ("POST", "/api/predictions/batch/"): _PR,
    ("GET", "/api/predictions/{id}/"): _R,
    ("GET", "/api/predictions/{id}/image/"): _R,
    ("GET", "/api/predictions/{id}/overlay/"): _R,
    ("GET", "/api/predictions/{id}/masks/{cls}/"): _R,
    ("GET", "/api/predictions/{id}/export/"): _R,
    ("GET", "/api/predictions/{id}/review/"): _R,
    ("POST", "/api/predictions/{id}/review/"): Capability.REVIEW,
}

#: Pages (outside /api/ and the Django admin) -> the capability they need.
PAGES: dict[str, Capability] = {
    "/": _R,
    "/predictions/": _R,
    "/predictions/new/": _PR,
    "/predictions/<int:pk>/": _R,
    "/models/": _R,
    "/models/<int:pk>/": _R,
    "/models/<int:pk>/promote/": Capability.PROMOTE,
    "/models/<int:pk>/rollback/": Capability.ROLLBACK,
    "/models/<int:pk>/gate/": _JOBS,
    "/monitoring/": _R,
    "/monitoring/drift/<int:pk>/": _JOBS,
    "/monitoring/traffic/<str:name>/": Capability.PROMOTE,
    "/jobs/": _R,
    "/jobs/estimate/": _R,
    "/jobs/<int:pk>/": _R,
    "/jobs/<int:pk>/status/": _R,
    "/jobs/<int:pk>/cancel/": _JOBS,
    "/experiments/": _R,
    "/experiments/<str:name>/": _R,
    "/calibrations/": _R,
    "/datasets/": _R,
    "/datasets/<int:pk>/": _R,
    "/datasets/<int:pk>/preview/<int:index>.png": _R,
}

#: Pages any logged-in user has, role or not: their own account, token and password.
SELF_PAGES = {"/account/", "/account/token/", "/account/token/revoke/", "/account/password/"}

#: Pages that only take POST (forms): an allowed GET gets 405, not 403.
POST_ONLY = {
    "/models/<int:pk>/promote/",
    "/models/<int:pk>/gate/",
    "/monitoring/drift/<int:pk>/",
    "/monitoring/traffic/<str:name>/",
    "/models/<int:pk>/rollback/",
    "/jobs/<int:pk>/cancel/",
    "/account/token/",
    "/account/token/revoke/",
    "/account/password/",
}

#: Routes outside the matrix and why.
UNCHECKED_PAGES = {
    "healthz": "liveness probe, open by design",
    "readyz": "readiness probe, open by design",
    "accounts/login/": "the login page itself",
    "accounts/logout/": "logging out",
    "api/schema/": "the API description, open by design",
    "api/docs/": "the API's documentation page, open by design",
    "admin/": "Django's admin: staff only, checked by Django",
    # Prometheus has no login: a bearer token or a trusted network lets a scraper in
    # (portal/telemetry/access.py; tested in tests/portal/telemetry/test_access.py).
    "metrics": "Prometheus scrapes, by token or network instead of a login",
}

_ROLES: dict[str, Role | None] = {
    "stranger": None,
    "viewer": Role.VIEWER,
    "operator": Role.OPERATOR,
    "approver": Role.APPROVER,
    "admin": Role.ADMIN,
}


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in _schema()["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _url(path: str) -> str:
    """The schema path with its parameters filled: an id nothing has, the root mask class."""
    return re.sub(r"\{id\}", "999999", path).replace("{cls}", "root").replace("{name}", "none")


def _call(client: APIClient, method: str, url: str) -> int:
    return client.generic(method, url, data="", content_type="application/json").status_code


def test_the_table_names_every_operation_in_the_schema() -> None:
    found = {(method, path) for method, path, _ in _operations()}
    written = set(API) | OPEN | SELF
    assert found - written == set(), "routes without an expected role: add them to API"
    assert written - found == set(), "routes in the table that the schema does not have"


def test_every_operation_but_the_token_exchange_requires_authentication() -> None:
    for method, path, operation in _operations():
        security = operation.get("security")
        if (method, path) in OPEN:
            assert not security or {} in security, path
        else:
            assert security, f"{method} {path} names no authentication"
            assert {} not in security, f"{method} {path} allows anonymous calls"


def test_anonymous_api_calls_get_401() -> None:
    client = APIClient()
    for method, path, _ in _operations():
        if (method, path) in OPEN:
            continue
        assert _call(client, method, _url(path)) == 401, f"{method} {path}"


@pytest.mark.parametrize("name", list(_ROLES))
def test_each_role_is_allowed_or_denied_as_the_role_table_says(
    name: str, users: dict[str, User]
) -> None:
    user = users[name]
    assert role_of(user) is _ROLES[name]
    client = APIClient()
    client.force_authenticate(user)
    for (method, path), capability in API.items():
        status = _call(client, method, _url(path))
        role = _ROLES[name]
        if role is not None and role >= CAPABILITIES[capability]:
            assert status not in (401, 403), f"{name} was refused {method} {path} ({status})"
        else:
            assert status == 403, f"{name} was not refused {method} {path} ({status})"
    for method, path in SELF:
        assert _call(client, method, _url(path)) not in (401, 403), f"{name}: {method} {path}"


def _page_routes(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = ""
) -> list[str]:
    found: list[str] = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith("api/") or route in UNCHECKED_PAGES:
            continue
        if isinstance(pattern, URLResolver):
            found.extend(_page_routes(pattern.url_patterns, route))
        else:
            found.append("/" + route)
    return found


def test_the_table_names_every_page() -> None:
    assert sorted(_page_routes()) == sorted(set(PAGES) | SELF_PAGES)


@pytest.mark.parametrize("name", list(_ROLES))
def test_own_account_pages_need_a_login_but_no_role(name: str, users: dict[str, User]) -> None:
    for url in SELF_PAGES:
        anonymous = Client().get(url)
        assert anonymous.status_code == 302, url
        assert anonymous["Location"].startswith("/accounts/login/"), url
        client = Client()
        client.force_login(users[name])
        assert client.get(url).status_code == (405 if url in POST_ONLY else 200), url


@pytest.mark.parametrize("name", list(_ROLES))
def test_pages_redirect_anonymous_users_and_refuse_users_without_the_role(
    name: str, users: dict[str, User]
) -> None:
    for route, capability in PAGES.items():
        # no such object: allowed means 404, not 403
        url = route.replace("<int:pk>", "999999").replace("<int:index>", "0")
        url = url.replace("<str:name>", "no-such-experiment")
        anonymous = Client().get(url)
        assert anonymous.status_code == 302, url
        assert anonymous["Location"].startswith("/accounts/login/"), url
        client = Client()
        client.force_login(users[name])
        status = client.get(url).status_code
        role = _ROLES[name]
        if role is not None and role >= CAPABILITIES[capability]:
            wanted = 405 if route in POST_ONLY else (404 if url != route else 200)
            assert status == wanted, f"{name} could not open {url} ({status})"
        else:
            assert status == 403, f"{name} opened {url} ({status})"


def test_the_open_routes_answer_without_login() -> None:
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)  # no model in production here
