"""``manage.py predict IMAGE|FOLDER ...``: predict plates and keep them in the portal.

The command-line twin of ``POST /api/predictions/``: each image becomes a
prediction (input, contract, masks, overlay) recorded with source
``command``, so it shows in the API and the pages like an upload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.permissions import Capability
from portal.common.commands import add_user_option, command_error, resolve_user
from portal.common.errors import PortalError
from portal.predictions.models import Source
from portal.predictions.services import IMAGE_SUFFIXES, create_prediction
from portal.registry import selectors


def _images(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{given}: no such file or folder")
    if not found:
        raise CommandError("no images found; give image files or folders that hold them")
    return found


class Command(BaseCommand):
    help = "Predict plate images with a registered model and record them in the portal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("images", nargs="+", help="image files, or folders of them")
        parser.add_argument(
            "--model", help="id, name:version or name (its production version); "
            "default: the version in production",
        )  # fmt: skip
        parser.add_argument("--calibration", help="a calibration preset for robot coordinates")
        parser.add_argument("--tta", action="store_true", help="test-time augmentation")
        parser.add_argument("--json", action="store_true", help="print each contract as JSON")
        add_user_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_user(options["user"], Capability.PREDICT)
        version = None
        if options["model"]:
            version = selectors.find(options["model"])
            if version is None:
                raise CommandError(f"no model version {options['model']!r}")
        failed = 0
        for path in _images(options["images"]):
            try:
                with path.open("rb") as handle:
                    prediction = create_prediction(
                        image=handle, image_name=path.name, user=user, model_version=version,
                        calibration=options["calibration"], tta=options["tta"],
                        source=Source.COMMAND,
                    )  # fmt: skip
            except PortalError as exc:
                failed += 1
                self.stderr.write(str(command_error(exc)))
                continue
            if options["json"]:
                self.stdout.write(json.dumps({"id": prediction.pk, **prediction.contract}))
            else:
                self.stdout.write(
                    f"{path.name}: {prediction.n_plants} plants, {prediction.n_tips} tips "
                    f"(prediction {prediction.pk})"
                )
        if failed:
            raise CommandError(f"{failed} image(s) could not be predicted")
