"""``manage.py create_token <username> [--reset]``: print a user's API token.

For scripts and robots that cannot type a password into ``POST
/api/auth/token/``: the token is the same one that endpoint hands out
(:func:`portal.accounts.services.issue_token`), made on first use.
``--reset`` revokes the old token first, so every client still holding it
gets 401 from then on. Only the key goes to stdout, so
``TOKEN=$(manage.py create_token operator)`` works; notes go to stderr.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.permissions import role_of
from portal.accounts.services import issue_token, revoke_token


class Command(BaseCommand):
    help = "Print a user's API token (made on first use); --reset replaces it with a new one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user whose token to print")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="revoke the user's current token first: clients using it get 401",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"no user is called {username!r}: create one (manage.py createsuperuser, "
                "or manage.py seed_demo for the demo users)"
            )
        if not user.is_active:
            raise CommandError(f"{username} is not active: activate the user in the admin first")
        if options["reset"] and revoke_token(user=user):
            self.stderr.write(f"the old token of {username} is revoked")
        if role_of(user) is None:
            self.stderr.write(
                f"warning: {username} has no role, so the token opens nothing but "
                "GET /api/auth/me/; give the user a role in the admin"
            )
        self.stdout.write(issue_token(user=user).key)
