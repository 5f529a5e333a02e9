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
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files.storage import storages
from django.db import IntegrityError, transaction

from portal.common.errors import Conflict, PortalError
from portal.common.storage import remove_files, store_files
from portal.registry.models import ModelVersion, Stage, StageChange
from visionkit.inference.runtime import EXPORT_FILES as VISIONKIT_EXPORT_FILES

if TYPE_CHECKING:
    from portal.accounts.models import User

__all__ = [
    "EXPORT_FILES",
    "MODEL_FILES",
    "RegistryError",
    "promote",
    "register_from_job",
    "register_model_archive",
    "register_model_folder",
    "rollback",
]

logger = logging.getLogger(__name__)

#: The files of a model folder the registry keeps (nothing else is copied).
MODEL_FILES: tuple[str, ...] = ("model.safetensors", "config.json", "MODEL_CARD.md")

#: Ready ONNX exports (``visionkit export``) also kept when a *local* folder is
#: registered (``manage.py register_model``, the demo's default model), so the
#: workers run them at once instead of quantising on first use; an uploaded
#: archive's are left out (:mod:`portal.registry.archives`). visionkit runs
#: one only if its stamp matches the weights.
EXPORT_FILES: tuple[str, ...] = tuple(VISIONKIT_EXPORT_FILES.values())

_CANDIDATE, _STAGING, _PRODUCTION, _ARCHIVED = "candidate", "staging", "production", "archived"

#: Stage -> the stages a version may move to from it.
MOVES: dict[str, frozenset[str]] = {
    _CANDIDATE: frozenset({_STAGING, _ARCHIVED}),
    _STAGING: frozenset({_PRODUCTION, _CANDIDATE, _ARCHIVED}),
    _PRODUCTION: frozenset({_ARCHIVED}),
    _ARCHIVED: frozenset({_CANDIDATE}),
}


class RegistryError(PortalError):
    """A registry request that cannot be done; the message says why and what to do."""

    def __init__(
        self, message: str, *, conflict: bool = False, problems: Iterable[str] = ()
    ) -> None:
        super().__init__(message, problems=problems)
        #: The request clashes with the registry's state (HTTP 409), not with its input (400).
        self.conflict = conflict
        if conflict:
            self.status_code = Conflict.status_code
            self.code = Conflict.code


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
        shown = str(exc).replace(f"{source}/", "").replace(str(source), "the folder")
        raise RegistryError(
            f"not a model folder visionkit can load: {shown}", problems=[shown]
        ) from exc
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
        kept = [f for f in (*MODEL_FILES, *EXPORT_FILES) if (source / f).is_file()]
        stored = store_files(source, prefix, kept)
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
        remove_files(stored)
        raise RegistryError(
            f"{name} version {version} is registered already; give another version",
            conflict=True,
        ) from exc
    except BaseException:
        remove_files(stored)
        raise
    logger.info("registered %s v%s (%s) from %s", name, version, loaded.sha256[:12], source)
    from portal.registry import mlflow_sync

    transaction.on_commit(lambda: mlflow_sync.link_version(created.pk))
    return created


def register_model_archive(
    *, upload: Any, user: User | None, name: str | None = None, version: str | None = None
) -> ModelVersion:
    """Register a zipped model folder as a ``candidate`` (checked before anything is loaded).

    Raises:
        RegistryError: a pickle or stray file, a missing file, or weights that do not
            match the config (missing or mis-shaped tensors); or the version is taken.
        ArchiveError: not a zip, or an unsafe one.
        TooLarge: over ``VISIONKIT_MAX_MODEL_MB``.
    """
    from portal.registry.archives import model_folder_from_zip

    with model_folder_from_zip(upload) as folder:
        return register_model_folder(
            folder=folder, user=user, name=name, version=version,
            reason=f"registered from {getattr(upload, 'name', None) or 'an archive'}",
        )  # fmt: skip


def _job_version(name: str, wanted: str, job_pk: int) -> str:
    if not ModelVersion.objects.filter(name=name, version=wanted).exists():
        return wanted
    return f"{wanted}-job{job_pk}"


def register_from_job(
    *, job: Any, user: User | None, name: str | None = None, version: str | None = None
) -> ModelVersion:
    """Register the model a finished training job stored, with the job's lineage.

    The job's model folder is in storage under ``job.result["model_folder"]``.
    Without ``version``, the trained config's version is used when it is free
    for the name, else ``<version>-job<pk>``. Sets ``job.result_model``.

    Raises:
        RegistryError: not a training job, not finished, no model stored, or registered already.
    """
    import json
    import tempfile

    if job.kind != "train":
        raise RegistryError(f"job {job.pk} is a {job.kind} job; only training jobs make models",
                            conflict=True)  # fmt: skip
    if job.result_model_id is not None:
        raise RegistryError(
            f"job {job.pk}'s model is registered already as version id {job.result_model_id}",
            conflict=True,
        )
    prefix = (job.result or {}).get("model_folder")
    if job.status not in ("running", "succeeded") or not prefix:
        raise RegistryError(
            f"job {job.pk} is {job.status} and left no model; register a succeeded training job",
            conflict=True,
        )
    storage = storages["default"]
    with tempfile.TemporaryDirectory(prefix="visionkit-job-model-") as scratch:
        folder = Path(scratch)
        for filename in MODEL_FILES:
            stored = f"{prefix}/{filename}"
            if storage.exists(stored):
                with storage.open(stored, "rb") as src:
                    (folder / filename).write_bytes(src.read())
        config = (
            json.loads((folder / "config.json").read_text())
            if (folder / "config.json").is_file()
            else {}
        )
        name = name or str(config.get("name") or "root-unet")
        version = version or _job_version(name, str(config.get("version") or "1"), job.pk)
        result = job.result or {}
        registered = register_model_folder(
            folder=folder, user=user, name=name, version=version,
            mlflow_run_id=str(result.get("mlflow_run_id") or ""),
            dataset_version=job.dataset.version if job.dataset_id else "",
            code_version=str(result.get("code_version") or ""),
            reason=f"trained by job {job.pk}",
        )  # fmt: skip
    job.result_model = registered
    job.save(update_fields=["result_model"])
    return registered


def _check_approval(version: ModelVersion, user: User | None) -> None:
    """Production needs a person with the promote capability who did not register it."""
    from django.conf import settings

    from portal.accounts.permissions import Capability, can

    if user is None or not can(user, Capability.PROMOTE):
        raise RegistryError(
            "production needs an approver's explicit approval: nothing promotes itself",
            conflict=True,
        )
    if (
        version.registered_by_id is not None
        and version.registered_by_id == user.pk
        and not settings.VISIONKIT_ALLOW_SELF_APPROVAL
    ):
        raise RegistryError(
            f"{user.get_username()} registered {version.name} v{version.version}; another "
            "approver must approve it for production (VISIONKIT_ALLOW_SELF_APPROVAL)",
            conflict=True,
        )


def promote(
    *, model_version: ModelVersion | int, stage: str, reason: str, user: User | None
) -> ModelVersion:
    """Move a version to ``stage``; a new production version archives the one it replaces.

    Staging needs a passed gate (:func:`portal.registry.gates.allows_staging`).
    Production needs an approver other than the registrant, and a smoke check of
    the version in the deployment's idle slot (:mod:`portal.serving`); the stage
    change and the slot switch are then one transaction, so every process sees
    both at once.

    Raises:
        RegistryError: no reason, an unknown stage, a move the stages do not allow,
            a gate not passed, an approval refused, or a failed smoke check.
    """
    if not reason.strip():
        raise RegistryError("give a reason: it goes into the audit trail")
    if stage not in Stage.values:
        raise RegistryError(f"unknown stage {stage!r}; stages are {', '.join(Stage.values)}")
    pk = model_version.pk if isinstance(model_version, ModelVersion) else model_version
    version = ModelVersion.objects.get(pk=pk)
    _check_move(version, stage)
    smoke: dict[str, Any] | None = None
    if stage == _STAGING and version.stage == _CANDIDATE:
        from portal.registry.gates import allows_staging

        ok, why = allows_staging(version)
        if not ok:
            raise RegistryError(f"{version.name} v{version.version} may not reach staging: {why}",
                                conflict=True)  # fmt: skip
    if stage == _PRODUCTION:
        from portal.serving.smoke import require_smoke

        _check_approval(version, user)
        smoke = require_smoke(version, user=user)
    return _promote(pk, stage, reason, user, smoke)


def _check_move(version: ModelVersion, stage: str) -> None:
    if stage not in MOVES[version.stage]:
        allowed = ", ".join(sorted(MOVES[version.stage]))
        raise RegistryError(
            f"{version.name} v{version.version} is {version.stage}; it can move to {allowed}, "
            f"not {stage}",
            conflict=True,
        )


@transaction.atomic
def _promote(
    pk: int, stage: str, reason: str, user: User | None, smoke: dict[str, Any] | None
) -> ModelVersion:
    version = ModelVersion.objects.select_for_update().get(pk=pk)
    _check_move(version, stage)  # again, under the lock: it may have moved meanwhile
    if stage == _PRODUCTION:
        current = (
            ModelVersion.objects.select_for_update()
            .filter(name=version.name, stage=_PRODUCTION)
            .first()
        )
        if current is not None:
            _move(current, _ARCHIVED, f"replaced by v{version.version}: {reason}", user)
    _move(version, stage, reason, user)
    if stage == _PRODUCTION:
        from portal.serving.services import switch

        switch(version=version, user=user, reason=reason, smoke=smoke, action="promote")
    elif version.stage != _STAGING:
        from portal.serving.services import drop_challenger

        drop_challenger(version)
    _sync_aliases(version.name)
    return version


def rollback(*, name: str, reason: str, user: User) -> ModelVersion:
    """Put the version that was in production before the current one back in production.

    The previous version is usually still loaded in the deployment's idle slot,
    so the switch is a database write; it takes effect on each process's next
    request. When it is not in the idle slot it is smoke-checked first.

    Raises:
        RegistryError: no reason, no version in production, none before it, or a failed
            smoke check of the version to restore.
    """
    if not reason.strip():
        raise RegistryError("give a reason: it goes into the audit trail")
    current = ModelVersion.objects.filter(name=name, stage=_PRODUCTION).first()
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
    from portal.serving.services import in_idle_slot
    from portal.serving.smoke import require_smoke

    target = previous.model_version
    smoke = None if in_idle_slot(target) else require_smoke(target, user=user)
    return _rollback(current.pk, target.pk, reason, user, smoke)


@transaction.atomic
def _rollback(
    current_pk: int, target_pk: int, reason: str, user: User, smoke: dict[str, Any] | None
) -> ModelVersion:
    current = ModelVersion.objects.select_for_update().get(pk=current_pk)
    target = ModelVersion.objects.select_for_update().get(pk=target_pk)
    if current.stage != _PRODUCTION:
        raise RegistryError(f"{current.name} v{current.version} left production meanwhile; "
                            "reload and try again", conflict=True)  # fmt: skip
    _move(current, _ARCHIVED, f"rolled back: {reason}", user)
    _move(target, _PRODUCTION, f"rollback from v{current.version}: {reason}", user)
    from portal.serving.services import switch

    switch(version=target, user=user, reason=reason, smoke=smoke, action="rollback")
    _sync_aliases(target.name)
    return target


def _sync_aliases(name: str) -> None:
    """After the commit, make MLflow's aliases of ``name`` follow the portal's stages."""
    from portal.registry import mlflow_sync

    transaction.on_commit(lambda: mlflow_sync.sync_aliases(name))


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
