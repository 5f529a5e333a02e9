"""``manage.py register_model PATH``: register a model folder or its zip as a candidate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.permissions import Capability
from portal.common.commands import add_user_option, command_error, resolve_user
from portal.common.errors import PortalError
from portal.registry import services


class Command(BaseCommand):
    help = (
        "Register a model folder (model.safetensors, config.json, MODEL_CARD.md) or a zip of "
        "one as a candidate; prints its id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a model folder or a .zip of one")
        parser.add_argument("--name", help="registry name (default: the config's name)")
        # (--version is Django's own: it prints Django's version)
        parser.add_argument("--model-version", help="version (default: the config's version)")
        add_user_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        user = resolve_user(options["user"], Capability.REGISTER)
        named = {"name": options["name"], "version": options["model_version"]}
        try:
            if path.is_dir():
                version = services.register_model_folder(folder=path, user=user, **named)
            elif path.is_file():
                with path.open("rb") as handle:
                    version = services.register_model_archive(upload=handle, user=user, **named)
            else:
                raise CommandError(f"{path}: no such folder or file")
        except PortalError as exc:
            raise command_error(exc) from exc
        self.stdout.write(
            f"registered {version.name} v{version.version} as {version.stage} (id {version.pk})"
        )
