"""What the portal's ``manage.py`` commands share: who acts, ``--set`` options, clear errors.

Commands are thin: they parse, call a service, and print what changed. Work
done from the command line is recorded like work done through the API, so
``--user`` names the account it is recorded under (its role is checked the
way the API checks it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import CommandError, CommandParser

from portal.accounts.models import User
from portal.accounts.permissions import Capability, can
from portal.common.errors import PortalError

__all__ = ["add_user_option", "command_error", "parameters_from", "resolve_user"]


def add_user_option(parser: CommandParser, *, required: bool = False) -> None:
    """``--user NAME``: the account the work is recorded under."""
    parser.add_argument(
        "--user",
        required=required,
        help="the portal user this is recorded under (its role must allow it)",
    )


def resolve_user(username: str | None, capability: Capability | None = None) -> User | None:
    """The active user called ``username`` (``None`` for no name), holding ``capability``."""
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(
            f"no active user is called {username!r}; create one, or run manage.py seed_demo"
        )
    if capability is not None and not can(user, capability):
        raise CommandError(f"{username}'s role does not allow this ({capability.value})")
    return user


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parameters_from(config: str | None, assignments: list[str] | None) -> dict[str, Any]:
    """Parameters from a YAML/JSON file and ``key=value`` pairs (values read as JSON when they can).

    ``--set epochs=3 --set arch_params='{"encoder_depth": 3}'`` gives
    ``{"epochs": 3, "arch_params": {"encoder_depth": 3}}``; pairs override the file.
    """
    params: dict[str, Any] = {}
    if config:
        path = Path(config)
        if not path.is_file():
            raise CommandError(f"{config}: no such file")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise CommandError(f"{config}: expected a mapping of parameters")
        params.update(loaded)
    for item in assignments or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--set {item!r}: write key=value")
        params[key.strip()] = _value(text)
    return params


def command_error(exc: PortalError) -> CommandError:
    """A service's refusal as a command error: its message and each problem on a line."""
    lines = [exc.message]
    lines.extend(f"  - {problem}" for problem in exc.problems)
    return CommandError("\n".join(lines))
