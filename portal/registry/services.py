"""Writes of the registry: register a model folder, promote a version, roll back production.

Every write is one transaction; stage changes lock the versions they touch
(``select_for_update``), so two approvers promoting at once cannot leave two
versions in production (the database's constraint would refuse it anyway).
Registration copies the model folder into the portal's file storage
(``STORAGES["default"]``: local files, or Blob Storage by settings) and
removes what it copied if anything fails, so nothing half-written stays.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction

from portal.registry.models import ModelVersion, Stage, StageChange

if TYPE_CHECKING:
    from portal.accounts.models import User

__all__ = ["MODEL_FILES", "RegistryError", "promote", "register_model_folder", "rollback"]

logger = logging.getLogger(__name__)

#: The files of a model folder the registry keeps (nothing else is copied).
MODEL_FILES: tuple[str, ...] = ("model.safetensors", "config.json", "MODEL_CARD.md")

_CANDIDATE, _STAGING, _PRODUCTION, _ARCHIVED = "candidate", "staging", "production", "archived"

#: Stage -> the stages a version may move to from it.
MOVES: dict[str, frozenset[str]] = {
    _CANDIDATE: frozenset({_STAGING, _ARCHIVED}),
    _STAGING: frozenset({_PRODUCTION, _CANDIDATE, _ARCHIVED}),
    _PRODUCTION: frozenset({_ARCHIVED}),
    _ARCHIVED: frozenset({_CANDIDATE}),
}


class RegistryError(ValueError):
    """A registry request that cannot be done; the message says why and what to do."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        #: The request clashes with the registry's state (HTTP 409), not with its input (400).
        self.conflict = conflict


def register_model_folder(
    *,
    folder: str | os.PathLike[str],
    user: User | None,
    name: str | None = None,
    version: str | None = None,
    mlflow_run_id: str = "",
    dataset_version: str = "",
    code_version: str = "",
    reason: str = "registered",
) -> ModelVersion:
    """Register a model folder as a ``candidate``, its files copied into the portal's storage.

    The folder is checked by loading it with :func:`visionkit.load_model`
    (safetensors weights and ``config.json``, never a pickle). ``name`` and
    ``version`` default to the config's.

    Raises:
        RegistryError: the folder is not a loadable model, or the version is registered.
    """
    from visionkit import load_model
    from visionkit.exceptions import VisionkitError

    source = Path(folder)
    try:
        loaded = load_model(source)
    except VisionkitError as exc:
        raise RegistryError(f"not a model folder visionkit can load: {exc}") from exc
    name = name or loaded.config.name
    version = version or str(loaded.config.version)
    if ModelVersion.objects.filter(name=name, version=version).exists():
        raise RegistryError(
            f"{name} version {version} is registered already; give another version",
            conflict=True,
        )
    prefix = f"models/{name}/{version}"
    stored: list[str] = []
    try:
        stored = _store_files(source, prefix)
        with transaction.atomic():
            created = ModelVersion.objects.create(
                name=name,
                version=version,
                sha256=loaded.sha256,
                architecture=loaded.config.architecture,
                folder=prefix,
                metrics=dict(loaded.config.extra.get("metrics") or {}),
                config=loaded.config.to_dict(),
                mlflow_run_id=mlflow_run_id or str(loaded.config.extra.get("mlflow_run_id") or ""),
                dataset_version=dataset_version
                or str(loaded.config.extra.get("data_version") or ""),
                code_version=code_version or str(loaded.config.extra.get("code_version") or ""),
                registered_by=user,
            )
            StageChange.objects.create(
                model_version=created, from_stage="", to_stage=_CANDIDATE,
                reason=reason, changed_by=user,
            )  # fmt: skip
    except IntegrityError as exc:
        _remove(stored)
        raise RegistryError(
            f"{name} version {version} is registered already; give another version",
            conflict=True,
        ) from exc
    except BaseException:
        _remove(stored)
        raise
    logger.info("registered %s v%s (%s) from %s", name, version, loaded.sha256[:12], source)
    return created


def _store_files(source: Path, prefix: str) -> list[str]:
    """Copy the model files into storage under ``prefix``; returns the stored names."""
    storage = storages["default"]
    stored: list[str] = []
    try:
        for filename in MODEL_FILES:
            path = source / filename
            if not path.is_file():
                continue
            target = f"{prefix}/{filename}"
            if storage.exists(target):  # left by an attempt that died before its clean-up
                storage.delete(target)
            with path.open("rb") as handle:
                stored.append(storage.save(target, File(handle, name=filename)))
    except BaseException:
        _remove(stored)
        raise
    return stored


def _remove(names: list[str]) -> None:
    storage = storages["default"]
    for stored in names:
        try:
            storage.delete(stored)
        except OSError:  # pragma: no cover - a storage that fails even to delete
            logger.exception("could not remove %s after a failed registration", stored)


@transaction.atomic
def promote(
    *, model_version: ModelVersion | int, stage: str, reason: str, user: User
) -> ModelVersion:
    """Move a version to ``stage``; a new production version archives the one it replaces.

    Raises:
        RegistryError: no reason, an unknown stage, or a move the stages do not allow.
    """
    if not reason.strip():
        raise RegistryError("give a reason: it goes into the audit trail")
    if stage not in Stage.values:
        raise RegistryError(f"unknown stage {stage!r}; stages are {', '.join(Stage.values)}")
    pk = model_version.pk if isinstance(model_version, ModelVersion) else model_version
    version = ModelVersion.objects.select_for_update().get(pk=pk)
    if stage not in MOVES[version.stage]:
        allowed = ", ".join(sorted(MOVES[version.stage]))
        raise RegistryError(
            f"{version.name} v{version.version} is {version.stage}; it can move to {allowed}, "
            f"not {stage}",
            conflict=True,
        )
    if stage == _PRODUCTION:
        current = (
            ModelVersion.objects.select_for_update()
            .filter(name=version.name, stage=_PRODUCTION)
            .first()
        )
        if current is not None:
            _move(current, _ARCHIVED, f"replaced by v{version.version}: {reason}", user)
    _move(version, stage, reason, user)
    return version


@transaction.atomic
def rollback(*, name: str, reason: str, user: User) -> ModelVersion:
    """Put the version that was in production before the current one back in production.

    Raises:
        RegistryError: no reason, no version in production, or none before it.
    """
    if not reason.strip():
        raise RegistryError("give a reason: it goes into the audit trail")
    current = ModelVersion.objects.select_for_update().filter(name=name, stage=_PRODUCTION).first()
    if current is None:
        raise RegistryError(
            f"no version of {name} is in production; nothing to roll back", conflict=True
        )
    previous = (
        StageChange.objects.filter(model_version__name=name, to_stage=_PRODUCTION)
        .exclude(model_version=current)
        .select_related("model_version")
        .first()
    )
    if previous is None:
        raise RegistryError(
            f"{name} v{current.version} is the only version that was ever in production; "
            f"there is nothing to roll back to",
            conflict=True,
        )
    target = ModelVersion.objects.select_for_update().get(pk=previous.model_version.pk)
    _move(current, _ARCHIVED, f"rolled back: {reason}", user)
    _move(target, _PRODUCTION, f"rollback from v{current.version}: {reason}", user)
    return target


def _move(version: ModelVersion, stage: str, reason: str, user: Any) -> None:
    from django.utils import timezone

    before = version.stage
    version.stage = stage
    version.stage_changed_at = timezone.now()
    version.save(update_fields=["stage", "stage_changed_at"])
    StageChange.objects.create(
        model_version=version, from_stage=before, to_stage=stage, reason=reason, changed_by=user
    )
    logger.info("%s v%s: %s -> %s (%s)", version.name, version.version, before, stage, reason)
