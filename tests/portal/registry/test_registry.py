"""The registry: versions registered from model folders, stages moved with an audit trail.

The rules that matter are held by the database, so these tests also try to
break them around the services.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.registry import services
from portal.registry.models import ModelVersion, Stage, StageChange
from tests.portal.conftest import pass_gate

pytestmark = pytest.mark.django_db

DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "visionkit" / "models" / "default"


def _register(user: User, version: str) -> ModelVersion:
    return services.register_model_folder(
        folder=DEFAULT_MODEL, user=user, name="root-unet", version=version
    )


def test_stage_constants_follow_the_model() -> None:
    assert set(services.MOVES) == set(Stage.values)


def test_registering_copies_the_folder_and_records_lineage(operator: User) -> None:
    version = _register(operator, "1")
    assert (version.stage, version.registered_by) == ("candidate", operator)
    assert len(version.sha256) == 64
    assert version.architecture
    storage = storages["default"]
    for name in ("model.safetensors", "config.json", "MODEL_CARD.md"):
        assert storage.exists(f"models/root-unet/1/{name}"), name
    (change,) = version.stage_changes.all()
    assert (change.from_stage, change.to_stage, change.changed_by) == ("", "candidate", operator)


def test_a_folder_that_is_not_a_model_is_refused_and_nothing_stays(
    operator: User, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(DEFAULT_MODEL, bad)
    (bad / "model.safetensors").write_bytes(b"\x80\x04 a pickle, not safetensors")
    with pytest.raises(services.RegistryError, match="not a model folder visionkit can load"):
        services.register_model_folder(folder=bad, user=operator, name="root-unet", version="9")
    assert not ModelVersion.objects.exists()
    assert not storages["default"].exists("models/root-unet/9/config.json")


def test_registering_a_version_twice_is_a_conflict(operator: User) -> None:
    _register(operator, "1")
    with pytest.raises(services.RegistryError, match="registered already") as info:
        _register(operator, "1")
    assert info.value.conflict
    assert ModelVersion.objects.count() == 1


def test_promotion_to_production_archives_the_old_and_rollback_restores_it(
    operator: User, approver: User
) -> None:
    first, second = _register(operator, "1"), _register(operator, "2")
    for version in (first, second):
        pass_gate(version)
        services.promote(model_version=version, stage="staging", reason="looks good", user=approver)
        services.promote(model_version=version, stage="production", reason="ship", user=approver)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.stage, second.stage) == ("archived", "production")

    restored = services.rollback(name="root-unet", reason="v2 misses tips", user=approver)
    first.refresh_from_db()
    second.refresh_from_db()
    assert restored == first
    assert (first.stage, second.stage) == ("production", "archived")
    trail = [(c.from_stage, c.to_stage) for c in second.stage_changes.order_by("id")]
    assert trail == [
        ("", "candidate"),
        ("candidate", "staging"),
        ("staging", "production"),
        ("production", "archived"),
    ]
    assert "v2 misses tips" in second.stage_changes.order_by("id").last().reason


def test_moves_the_stages_do_not_allow_are_refused(operator: User, approver: User) -> None:
    version = _register(operator, "1")
    with pytest.raises(services.RegistryError, match="candidate; it can move to archived, staging"):
        services.promote(model_version=version, stage="production", reason="skip", user=approver)
    with pytest.raises(services.RegistryError, match="give a reason"):
        services.promote(model_version=version, stage="staging", reason=" ", user=approver)
    with pytest.raises(services.RegistryError, match="nothing to roll back"):
        services.rollback(name="root-unet", reason="why not", user=approver)


def test_the_database_holds_one_production_version(operator: User) -> None:
    first, second = _register(operator, "1"), _register(operator, "2")
    ModelVersion.objects.filter(pk=first.pk).update(stage="production")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=second.pk).update(stage="production")


def test_the_audit_trail_cannot_be_edited_or_deleted(operator: User) -> None:
    change = _register(operator, "1").stage_changes.get()
    change.reason = "rewritten"
    with pytest.raises(PermissionError, match="cannot be edited"):
        change.save()
    with pytest.raises(PermissionError, match="cannot be deleted"):
        change.delete()
    with pytest.raises(PermissionError):
        StageChange.objects.all().update(reason="x")
    with pytest.raises(PermissionError):
        StageChange.objects.all().delete()
    assert StageChange.objects.get().reason == "registered"


def test_the_admin_shows_stage_changes_read_only(admin_user_: User, operator: User) -> None:
    from django.test import Client

    change = _register(operator, "1").stage_changes.get()
    client = Client()
    client.force_login(admin_user_)
    assert client.get("/admin/registry/stagechange/").status_code == 200
    page = client.get(f"/admin/registry/stagechange/{change.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/registry/stagechange/{change.pk}/delete/").status_code == 403


@pytest.mark.parametrize(
    ("role", "code"), [("viewer", 403), ("operator", 403), ("approver", 200), ("admin", 200)]
)
def test_only_approvers_promote_through_the_api(
    role: str, code: int, users: dict[str, User], operator: User
) -> None:
    version = _register(operator, "1")
    client = APIClient()
    client.force_authenticate(users[role])
    answer = client.post(
        f"/api/models/{version.pk}/promote/", {"stage": "staging", "reason": "ok"}, format="json"
    )
    assert answer.status_code == code, answer.content
    if code == 403:
        assert "approver role" in answer.json()["detail"]


def test_the_api_lists_reads_and_rolls_back(operator: User, approver: User, viewer: User) -> None:
    first, second = _register(operator, "1"), _register(operator, "2")
    for version in (first, second):
        pass_gate(version)
        services.promote(model_version=version, stage="staging", reason="ok", user=approver)
        services.promote(model_version=version, stage="production", reason="ok", user=approver)
    reader = APIClient()
    reader.force_authenticate(viewer)
    listed = reader.get("/api/models/?stage=production").json()
    assert [v["version"] for v in listed["results"]] == ["2"]
    detail = reader.get(f"/api/models/{second.pk}/").json()
    assert detail["stage_changes"][0]["to_stage"] == "production"
    assert APIClient().get("/api/models/").status_code == 401
    approving = APIClient()
    approving.force_authenticate(approver)
    back = approving.post("/api/models/rollback/", {"reason": "v2 is worse"}, format="json")
    assert back.status_code == 200, back.content
    assert back.json()["version"] == "1"
    again = approving.post(
        f"/api/models/{second.pk}/promote/", {"stage": "production", "reason": "x"}
    )
    assert again.status_code == 409
