"""``manage.py rollback NAME --reason R --user U``: bring back the previous production version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.accounts.permissions import Capability
from portal.common.commands import add_user_option, command_error, resolve_user
from portal.common.errors import PortalError
from portal.registry import services


class Command(BaseCommand):
    help = "Put the version that was in production before the current one back in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", default="root-unet", help="registry name")
        parser.add_argument("--reason", required=True, help="why; kept in the audit trail")
        add_user_option(parser, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_user(options["user"], Capability.ROLLBACK)
        assert user is not None
        try:
            restored = services.rollback(name=options["name"], reason=options["reason"], user=user)
        except PortalError as exc:
            raise command_error(exc) from exc
        self.stdout.write(f"{restored.name} v{restored.version} is in production again")
