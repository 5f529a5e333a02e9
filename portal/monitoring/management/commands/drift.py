"""``manage.py drift [MODEL] [--reference FOLDER]``: test drift, or set the drift reference."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.common.commands import command_error
from portal.common.errors import PortalError
from portal.monitoring.checks import check_drift_now
from portal.monitoring.drift import NotEnoughData, reference_from_folder
from portal.serving.router import route


class Command(BaseCommand):
    help = ("Test input drift of a model version (default: the live one) against its reference, "
            "or store a reference from a folder of plates with --reference.")  # fmt: skip

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", nargs="?", help="an id, name, name:version or name@stage")
        parser.add_argument("--reference", help="a folder of the plates the model learned from")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            version = route(model=options["model"]).version
        except PortalError as exc:
            raise command_error(exc) from exc
        if options["reference"]:
            rows = reference_from_folder(options["reference"])
            if not rows:
                raise CommandError(f"no plate images in {options['reference']}")
            version.reference_stats = rows
            version.save(update_fields=["reference_stats"])
            self.stdout.write(f"{version.name} v{version.version}: reference of {len(rows)} plates")
            return
        try:
            report = check_drift_now(version, trigger="demand")
        except NotEnoughData as exc:
            raise CommandError(str(exc)) from exc
        for f in report.features:
            verdict = "DRIFT" if f["drifted"] else "ok"
            self.stdout.write(f"{f['feature']:>10}  {f['test']}: {f['statistic']}"
                              f" (threshold {f['threshold']})  {verdict}")  # fmt: skip
        self.stdout.write(f"{'drift' if report.drifted else 'no drift'}: "
                          f"{report.drifted_share:.0%} of features drifted")  # fmt: skip
