"""``manage.py check_storage [--create]``: is the portal's file storage there and writable?"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.common.errors import PortalError
from portal.common.storage_check import check_default_storage


class Command(BaseCommand):
    help = (
        "Write, read and delete a probe file in the portal's storage (local folder or Blob "
        "container); --create makes a missing Blob container. Exit status 1 if it fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--create", action="store_true", help="Create a missing container.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = check_default_storage(create=options["create"])
        except PortalError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(summary)
