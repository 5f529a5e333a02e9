"""``manage.py promote REF --stage S --reason R --user U``: move a version's stage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.permissions import Capability
from portal.common.commands import add_user_option, command_error, resolve_user
from portal.common.errors import PortalError
from portal.registry import selectors, services
from portal.registry.models import Stage


class Command(BaseCommand):
    help = "Move a model version to another stage (recorded in the audit trail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", help="the version: its id, or name:version")
        parser.add_argument("--stage", required=True, choices=Stage.values)
        parser.add_argument("--reason", required=True, help="why; kept in the audit trail")
        add_user_option(parser, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_user(options["user"], Capability.PROMOTE)
        assert user is not None
        version = selectors.find(options["model"])
        if version is None:
            raise CommandError(f"no model version {options['model']!r}; give an id or name:version")
        before = version.stage
        try:
            moved = services.promote(
                model_version=version, stage=options["stage"], reason=options["reason"], user=user
            )
        except PortalError as exc:
            raise command_error(exc) from exc
        self.stdout.write(f"{moved.name} v{moved.version}: {before} -> {moved.stage}")
