"""Every API error has one JSON shape whose message says what to do."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.common.errors import Conflict, PortalError, TooLarge, exception_handler
from portal.common.uploads import check_size, human_size

pytestmark = pytest.mark.django_db


def test_portal_errors_render_with_their_status_code_and_problems() -> None:
    response = exception_handler(PortalError("fix it", problems=["a", "b"]), {})
    assert response is not None
    assert (response.status_code, response.data) == (
        400,
        {"detail": "fix it", "code": "invalid", "problems": ["a", "b"]},
    )
    conflict = exception_handler(Conflict("taken"), {})
    assert conflict is not None
    assert conflict.status_code == 409
    assert conflict.data == {"detail": "taken", "code": "conflict"}


def test_a_field_error_names_the_field(operator: User) -> None:
    client = APIClient()
    client.force_authenticate(operator)
    body = client.post("/api/auth/token/", {"username": "x"}, format="json").json()
    assert body["code"] == "invalid"
    assert "password" in body["errors"]
    assert body["detail"].startswith("check the request: password:")


def test_authentication_and_permission_errors_have_the_same_shape(viewer: User) -> None:
    anonymous = APIClient().get("/api/models/")
    assert anonymous.status_code == 401
    assert set(anonymous.json()) == {"detail", "code"}
    client = APIClient()
    client.force_authenticate(viewer)
    refused = client.post("/api/models/1/promote/", {"stage": "staging", "reason": "x"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "approver role" in refused.json()["detail"]


def test_an_upload_over_the_limit_names_the_limit_and_the_setting() -> None:
    upload = SimpleUploadedFile("plate.png", b"0" * 2048)
    check_size(upload, limit=2048)
    with pytest.raises(TooLarge, match=r"plate.png is 2048 bytes; the limit is 1024 bytes") as err:
        check_size(upload, limit=1024, setting="VISIONKIT_MAX_DATASET_MB")
    assert "VISIONKIT_MAX_DATASET_MB" in str(err.value)
    assert err.value.status_code == 413
    assert human_size(3 * 1024 * 1024) == "3.0 MB"
