"""``manage.py seed_demo``: demo users, the default model in production, a data set, plates.

Safe to run again (see :mod:`portal.demo`). The demo password comes from
``VISIONKIT_DEMO_PASSWORD``, or is generated and printed once, when the
users are first made.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.demo import DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = (
        "Seed the demo: users viewer, operator, approver and admin, the shipped model in "
        "production, a small synthetic data set and a few predicted plates (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plates", type=int, default=3,
                            help="synthetic plates to predict (default 3)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        self.stderr.write("seeding the demo (the first run predicts a few plates: a minute)...")
        report = seed_demo(n_plates=max(0, options["plates"]))
        names = ", ".join(role.group for role in DEMO_USERS)
        if report.password:
            self.stdout.write(f"demo logins: {names}; password: {report.password}")
            if report.users_created:
                self.stdout.write("  (shown once: keep it, or set VISIONKIT_DEMO_PASSWORD)")
        else:
            self.stdout.write(
                f"demo logins: {names}; passwords unchanged (set VISIONKIT_DEMO_PASSWORD to reset)"
            )
        model = report.model
        assert model is not None
        assert report.dataset is not None
        self.stdout.write(
            f"model: {model.name} v{model.version} in {model.stage}"
            + (" (promoted now)" if report.model_promoted else "")
        )
        self.stdout.write(
            f"data set: {report.dataset.name} {report.dataset.version[:12]}"
            + (" (stored now)" if report.dataset_created else "")
        )
        self.stdout.write(f"predictions made now: {report.predictions_made}")
