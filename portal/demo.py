"""The demo seed behind ``manage.py seed_demo``: a portal that opens with something in it.

It makes the users ``viewer``, ``operator``, ``approver`` and ``admin`` (one
of each role), registers the shipped default model as ``root-unet`` and puts
it in production, stores a small synthetic data set, and predicts a few
synthetic plates, all through the same services the API uses. Running it
again changes nothing that is there already: users keep their passwords
unless ``VISIONKIT_DEMO_PASSWORD`` is set, the model and the data set are
found by their hashes, and only missing demo predictions are made.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from portal.accounts.models import User
from portal.accounts.permissions import Role
from portal.accounts.services import set_role
from portal.datasets.models import DatasetVersion
from portal.predictions.models import Prediction, Source
from portal.registry.models import ModelVersion, Stage

__all__ = ["DEFAULT_MODEL", "DEMO_USERS", "SeedReport", "seed_demo"]

logger = logging.getLogger(__name__)

#: The model folder that ships inside the library.
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "visionkit" / "models" / "default"
#: The demo users, one per role, named after their role.
DEMO_USERS: tuple[Role, ...] = (Role.VIEWER, Role.OPERATOR, Role.APPROVER, Role.ADMIN)
#: Registry name of the demo's production model.
MODEL_NAME = "root-unet"
#: Seeds of the synthetic plates: the data set's and the predicted plates'.
DATASET_SEED, PLATES_SEED = 11, 21


@dataclass
class SeedReport:
    """What a seed run did, for the command to print."""

    password: str | None = None  # set only when this run chose or set the passwords
    users_created: list[str] = field(default_factory=list)
    model: ModelVersion | None = None
    model_promoted: bool = False
    schedules_created: list[str] = field(default_factory=list)
    dataset: DatasetVersion | None = None
    dataset_created: bool = False
    predictions_made: int = 0


def _users(report: SeedReport) -> User:
    """Create the missing demo users; returns the admin (who acts for the seed)."""
    given = os.environ.get("VISIONKIT_DEMO_PASSWORD", "")
    missing = [r for r in DEMO_USERS if not User.objects.filter(username=r.group).exists()]
    password = given or (secrets.token_urlsafe(12) if missing else "")
    for role in DEMO_USERS:
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=role.group, defaults={"email": f"{role.group}@example.org"}
            )
            if created or given:
                user.set_password(password)
            if role is Role.ADMIN:  # manages users in Django's admin
                user.is_staff = user.is_superuser = True
            user.save()
            set_role(user=user, role=role)
        if created:
            report.users_created.append(role.group)
    if report.users_created or given:
        report.password = password
    return User.objects.get(username=Role.ADMIN.group)


def _model(report: SeedReport, admin: User) -> None:
    from portal.registry import services
    from visionkit import load_model

    sha = load_model(DEFAULT_MODEL).sha256
    version = ModelVersion.objects.filter(sha256=sha, name=MODEL_NAME).first()
    if version is None:
        taken = set(ModelVersion.objects.filter(name=MODEL_NAME).values_list("version", flat=True))
        number = load_model(DEFAULT_MODEL).config.version
        wanted = str(number) if str(number) not in taken else f"{number}-shipped"
        version = services.register_model_folder(
            folder=DEFAULT_MODEL, user=None, name=MODEL_NAME, version=wanted,
            reason="the model shipped with visionkit (seed_demo)",
        )  # fmt: skip
    if not ModelVersion.objects.filter(name=MODEL_NAME, stage=Stage.PRODUCTION).exists():
        for stage in (Stage.STAGING, Stage.PRODUCTION):
            if version.stage != stage:
                version = services.promote(
                    model_version=version, stage=stage, user=admin,
                    reason="the shipped default model (seed_demo)",
                )  # fmt: skip
        report.model_promoted = True
    if not version.reference_stats:
        version.reference_stats = _reference_stats()
        version.save(update_fields=["reference_stats"])
    report.model = version


#: The shipped model learned from full synthetic Hades frames; its drift reference is
#: a few such frames (another seed than the demo plates).
REFERENCE_SEED, REFERENCE_PLATES = 23, 6


def _reference_stats() -> list[dict[str, object]]:
    from portal.monitoring.features import image_features
    from visionkit.synth import SynthConfig, generate_plate

    rows: list[dict[str, object]] = []
    for index in range(REFERENCE_PLATES):
        plate = generate_plate(REFERENCE_SEED, SynthConfig(), index=index)
        rows.append({"image": plate.name} | image_features(plate.image))
    return rows


def _dataset(report: SeedReport, operator: User) -> None:
    from portal.datasets.services import create_dataset_from_folder
    from visionkit.synth import SynthConfig, generate_dataset

    with tempfile.TemporaryDirectory(prefix="visionkit-demo-data-") as scratch:
        generate_dataset(scratch, 4, seed=DATASET_SEED, crop=True,
                         config=SynthConfig().scaled(0.25), progress=False)  # fmt: skip
        report.dataset, report.dataset_created = create_dataset_from_folder(
            folder=scratch, name="demo-synthetic", user=operator,
            description="four synthetic dish crops at 1/4 scale, made by seed_demo",
        )  # fmt: skip


def _predictions(report: SeedReport, operator: User, n_plates: int) -> None:
    import cv2

    from portal.predictions.services import create_prediction
    from visionkit.synth import SynthConfig, generate_plate

    done = set(Prediction.objects.filter(source=Source.DEMO).values_list("image_name", flat=True))
    for index in range(n_plates):
        plate = generate_plate(PLATES_SEED, SynthConfig(), index=index)
        name = plate.name if plate.name.endswith(".png") else f"{plate.name}.png"
        if name in done:
            continue
        ok, encoded = cv2.imencode(".png", plate.image)
        if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
            raise RuntimeError("could not encode a synthetic plate")
        create_prediction(image=encoded.tobytes(), image_name=name, user=operator,
                          calibration="ot2", source=Source.DEMO)  # fmt: skip
        report.predictions_made += 1


def seed_demo(*, n_plates: int = 3) -> SeedReport:
    """Seed the demo (see the module docstring); returns what this run did."""
    report = SeedReport()
    admin = _users(report)
    operator = User.objects.get(username=Role.OPERATOR.group)
    _model(report, admin)
    _dataset(report, operator)
    _predictions(report, operator, n_plates)
    from portal.jobs.schedules import ensure_schedules

    report.schedules_created = ensure_schedules()
    logger.info(
        "demo seeded: %d user(s) created, model %s, data set %s, %d prediction(s) made",
        len(report.users_created), report.model,
        report.dataset.version[:12] if report.dataset else None, report.predictions_made,
    )  # fmt: skip
    return report
