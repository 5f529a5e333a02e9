"""Django for the portal tests: settings, users and clients.

pytest-django normally takes the settings module from ``[tool.pytest.ini_options]``
(``DJANGO_SETTINGS_MODULE = "portal.settings"``); setting it here as well lets
``pytest tests/portal`` run on its own. The environment is the one the portal
runs with in production except for a fixed test key, inline job execution and no HTTPS redirect.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("VISIONKIT_SECRET_KEY", "test-only-key-" + "x" * 40)
os.environ.setdefault("VISIONKIT_Q_SYNC", "1")
# The test client speaks plain HTTP; test_security.py checks the redirect itself.
os.environ.setdefault("VISIONKIT_SSL_REDIRECT", "0")
# Static files straight from the apps (no collectstatic before the tests).
os.environ.setdefault("VISIONKIT_STATIC_FINDERS", "1")
_STATIC_ROOT = Path(tempfile.gettempdir()) / "visionkit-test-static"
_STATIC_ROOT.mkdir(exist_ok=True)
os.environ.setdefault("VISIONKIT_STATIC_ROOT", str(_STATIC_ROOT))
# Models copied out of storage and job scratch folders stay out of the checkout.
os.environ.setdefault("VISIONKIT_MODEL_CACHE", tempfile.mkdtemp(prefix="visionkit-test-models-"))
os.environ.setdefault("VISIONKIT_JOB_DIR", tempfile.mkdtemp(prefix="visionkit-test-jobs-"))
_MLFLOW = Path(tempfile.mkdtemp(prefix="visionkit-test-mlflow-"))
os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{_MLFLOW / 'mlruns.db'}")
os.environ.setdefault("VISIONKIT_MLFLOW_ARTIFACTS", str(_MLFLOW / "artifacts"))
django.setup()

from django.conf import settings as _settings  # noqa: E402

if _settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A test database in a file, not in memory, so a real qcluster process (tests/portal/jobs/
    # test_qcluster.py) can open the same database as the test.
    _settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        Path(tempfile.mkdtemp(prefix="visionkit-test-db-")) / "test.sqlite3"
    )

import pytest  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.storage import storages  # noqa: E402
from django.test import Client  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.accounts.permissions import Role  # noqa: E402
from portal.accounts.services import set_role  # noqa: E402

PASSWORD = "a-long-test-password-42"

#: The shipped default model folder, registered by :func:`production_model`.
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "visionkit" / "models" / "default"

#: Every seeded user's name -> role (``None``: a logged-in stranger with no role).
SEEDED: dict[str, Role | None] = {
    "viewer": Role.VIEWER,
    "operator": Role.OPERATOR,
    "approver": Role.APPROVER,
    "admin": Role.ADMIN,
    "stranger": None,
}


@pytest.fixture
def password() -> str:
    """The password of every user the fixtures create."""
    return PASSWORD


def _user(name: str) -> User:
    user = get_user_model().objects.create_user(name, f"{name}@example.org", PASSWORD)
    set_role(user=user, role=SEEDED[name])
    return user


@pytest.fixture
def viewer(db: None) -> User:
    """A user with the viewer role: reads everything."""
    return _user("viewer")


@pytest.fixture
def operator(db: None) -> User:
    """A user with the operator role: also uploads, predicts, registers, runs jobs."""
    return _user("operator")


@pytest.fixture
def approver(db: None) -> User:
    """A user with the approver role: also promotes and rolls back models."""
    return _user("approver")


@pytest.fixture
def admin(db: None) -> User:
    """A user with the admin role (not a superuser): also manages users."""
    return _user("admin")


@pytest.fixture
def stranger(db: None) -> User:
    """A logged-in user with no role at all."""
    return _user("stranger")


@pytest.fixture
def users(
    viewer: User, operator: User, approver: User, admin: User, stranger: User
) -> dict[str, User]:
    """One user of each role, by name."""
    return {u.get_username(): u for u in (viewer, operator, approver, admin, stranger)}


@pytest.fixture
def admin_user_(db: None) -> User:
    """A staff superuser (pytest-django's ``admin_user`` uses another password)."""
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def operator_client(client: Client, operator: User) -> Client:
    """A client logged in as the operator."""
    client.force_login(operator)
    return client


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: object) -> Path:
    """Every test's file storage is a fresh folder: what a test stores is its own."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root  # type: ignore[attr-defined]
    storages._storages = {}  # the default storage reads MEDIA_ROOT when first made
    return root


@pytest.fixture
def stored_files(media: Path) -> Callable[..., list[str]]:
    """A function listing the files in the test's storage (relative paths, sorted).

    ``stored_files()`` lists all but the registered models (``models/``), which
    fixtures store; ``stored_files("")`` lists everything. Tests of bad input
    call it to check that nothing half-written stayed.
    """

    def listing(under: str | None = None) -> list[str]:
        if not media.exists():
            return []
        found = sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file())
        if under is None:
            return [name for name in found if not name.startswith("models/")]
        return [name for name in found if name.startswith(under)]

    return listing


@pytest.fixture
def production_model(approver: User) -> object:
    """The shipped default model registered as ``root-unet`` v1 and promoted to production."""
    from portal.registry import services

    version = services.register_model_folder(
        folder=DEFAULT_MODEL, user=None, name="root-unet", version="1"
    )
    services.promote(model_version=version, stage="staging", reason="test", user=approver)
    return services.promote(model_version=version, stage="production", reason="test", user=approver)


def pass_gate(version: object) -> object:
    """Record a passed gate for ``version`` against its name's production version.

    For tests of what comes *after* the gate (stages, aliases, serving): both
    sides get the same metrics, so every rule holds. The gate itself is tested
    for real in tests/portal/registry/test_gates.py.
    """
    from portal.datasets.models import DatasetVersion
    from portal.registry import gates
    from portal.registry.models import ModelVersion

    assert isinstance(version, ModelVersion)
    production = ModelVersion.objects.filter(name=version.name, stage="production").first()
    dataset = DatasetVersion.objects.first() or DatasetVersion.objects.create(
        version="0" * 64, name="holdout", prefix="datasets/none"
    )
    same = {"root_f1": 0.9, "tips_within_1mm": 0.95, "length_smape": 5.0}
    return gates.record_gate(
        candidate=version, baseline=production, dataset=dataset, candidate_metrics=same,
        baseline_metrics=same if production else None, job=None,
    )  # fmt: skip


#: A training run that takes seconds: a tiny U-Net on 1/8-scale plates (tests/helpers/training.py).
TINY_TRAINING: dict[str, object] = {
    "data_scale": 0.125, "scale": 0.125, "val_fraction": 0.25, "patch_size": 64,
    "patches_per_epoch": 16, "batch_size": 8, "epochs": 2, "architecture": "unet",
    "encoder": "resnet18", "arch_params": {"encoder_depth": 3, "decoder_channels": [16, 8, 8]},
}  # fmt: skip


@pytest.fixture(scope="session")
def plates_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four labelled synthetic dish crops at 1/8 scale (shared: do not modify)."""
    from visionkit.synth import SynthConfig, generate_dataset

    folder = tmp_path_factory.mktemp("portal-plates")
    generate_dataset(
        folder, 4, seed=3, crop=True, config=SynthConfig().scaled(0.125), progress=False
    )
    return folder


@pytest.fixture
def dataset(operator: User, plates_folder: Path) -> object:
    """The four plates stored as a data set version."""
    from portal.datasets.services import create_dataset_from_folder

    version, _ = create_dataset_from_folder(folder=plates_folder, name="tiny", user=operator)
    return version
