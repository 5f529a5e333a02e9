"""Roles: four groups made by a migration, each holding what the role below holds and more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from portal.accounts.models import User
from portal.accounts.permissions import CAPABILITIES, Capability, Role, can, role_of

pytestmark = pytest.mark.django_db

#: What each seeded user may do, written out by hand from the brief's role table.
EXPECTED: dict[str, set[str]] = {
    "stranger": set(),
    "viewer": {"read"},
    "operator": {"read", "upload", "predict", "review", "register", "run_jobs"},
    "approver": {
        "read",
        "upload",
        "predict",
        "review",
        "register",
        "run_jobs",
        "promote",
        "rollback",
    },
    "admin": {c.value for c in Capability},
}


def test_the_migration_made_the_four_role_groups() -> None:
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "admin",
        "approver",
        "operator",
        "viewer",
    ]
    promote = Group.objects.get(name="approver").permissions.filter(codename="promote")
    assert promote.exists()
    assert not Group.objects.get(name="operator").permissions.filter(codename="promote").exists()


def test_each_user_can_do_exactly_what_the_role_table_says(users: dict[str, User]) -> None:
    for name, user in users.items():
        allowed = {c.value for c in Capability if can(user, c)}
        assert allowed == EXPECTED[name], name


def test_roles_are_ordered_and_a_superuser_is_an_admin(
    users: dict[str, User], admin_user_: User
) -> None:
    assert [role_of(users[n]) for n in ("viewer", "operator", "approver", "admin")] == list(Role)
    assert role_of(users["stranger"]) is None
    assert role_of(admin_user_) is Role.ADMIN
    assert all(can(admin_user_, c) for c in Capability)
    assert CAPABILITIES[Capability.PROMOTE] is Role.APPROVER


def test_an_inactive_user_has_no_role(operator: User) -> None:
    operator.is_active = False
    operator.save()
    assert role_of(operator) is None
    assert not can(operator, Capability.READ)


def test_pages_need_a_role(client: Client, stranger: User, viewer: User) -> None:
    assert client.get("/").status_code == 302  # anonymous: to the login page
    client.force_login(stranger)
    assert client.get("/").status_code == 403
    client.force_login(viewer)
    assert client.get("/").status_code == 200
