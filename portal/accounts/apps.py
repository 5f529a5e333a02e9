"""The accounts app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles and API tokens (``AUTH_USER_MODEL = "accounts.User"``)."""

    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Keep the role groups in line with the role table after every ``migrate``."""
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    from django.apps import apps

    from portal.accounts.permissions import sync_role_groups

    sync_role_groups(apps)
