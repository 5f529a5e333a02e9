"""Models loaded once per process: the production version and a cached Predictor per version.

A request never loads a model. The first request (or ``/readyz``) for a model
version copies its files from the portal's file storage into a local cache
folder (``VISIONKIT_MODEL_CACHE``; storage may be Blob Storage), checks the
weights' sha256 against the registry, loads them with
:func:`visionkit.load_model` and keeps the :class:`visionkit.Predictor` for
the life of the process (one per version and test-time-augmentation choice),
up to ``VISIONKIT_MAX_LOADED_MODELS`` versions: loading one more unloads the
least recently used (a request that holds it finishes on it). A lock makes
concurrent first requests in one process load once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import storages

from portal.common.errors import PortalError
from portal.registry.models import ModelVersion, Stage
from portal.registry.services import EXPORT_FILES, MODEL_FILES

if TYPE_CHECKING:
    from visionkit import Predictor
    from visionkit.modelfolder import SavedModel

__all__ = [
    "clear",
    "get_predictor",
    "load_count",
    "loaded_versions",
    "local_folder",
    "production_version",
    "unload",
]

logger = logging.getLogger(__name__)

#: What a version's folder may hold: the card and the ready exports are copied when present.
_MODEL_FILES = (*MODEL_FILES, *EXPORT_FILES)
_REQUIRED = ("model.safetensors", "config.json")

_lock = threading.Lock()
_models: OrderedDict[tuple[int, str], SavedModel] = OrderedDict()
_predictors: dict[tuple[int, str, bool], Predictor] = {}
_loads = 0


def production_version(name: str | None = None) -> ModelVersion | None:
    """The version in production (of ``name``, or of the most recently promoted name)."""
    versions = ModelVersion.objects.filter(stage=Stage.PRODUCTION)
    if name:
        versions = versions.filter(name=name)
    return versions.order_by("-stage_changed_at", "-id").first()


def resolve_version(model_version: ModelVersion | int | str | None) -> ModelVersion:
    """The version asked for (an id, ``name``, ``name:version``, ``name@stage``) or the live one.

    Raises:
        PortalError: the reference names no version.
        Conflict: none is named and no version is in production.
    """
    from portal.serving.router import route

    return route(model=model_version).version


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_folder(version: ModelVersion) -> Path:
    """A local copy of the version's model folder, made once and checked against its sha256.

    Raises:
        PortalError: the stored files are missing or their weights do not match the registry.
    """
    cache = Path(settings.VISIONKIT_MODEL_CACHE) / f"{version.pk}-{version.sha256[:16]}"
    weights = cache / "model.safetensors"
    if weights.is_file() and _sha256(weights) == version.sha256:
        return cache
    storage = storages["default"]
    # Several worker processes may fill the cache at once (a batch over many
    # workers): each copies into a folder of its own and the first rename wins.
    partial = cache.with_name(f"{cache.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    partial.mkdir(parents=True)
    try:
        for filename in _MODEL_FILES:
            name = f"{version.folder}/{filename}"
            if not storage.exists(name):
                if filename not in _REQUIRED:
                    continue
                raise PortalError(
                    f"{version.name} v{version.version}: {name} is missing from the file "
                    "storage; register the model again"
                )
            with storage.open(name, "rb") as src, (partial / filename).open("wb") as dst:
                shutil.copyfileobj(src, dst)
        if _sha256(partial / "model.safetensors") != version.sha256:
            raise PortalError(
                f"{version.name} v{version.version}: the stored weights do not match the "
                "registry's sha256; the file storage was changed, register the model again"
            )
        try:
            partial.rename(cache)
        except OSError:  # the folder is there: another process's good copy, or a stale one
            if weights.is_file() and _sha256(weights) == version.sha256:
                return cache
            shutil.rmtree(cache, ignore_errors=True)
            partial.rename(cache)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return cache


def _model(version: ModelVersion) -> SavedModel:
    global _loads
    key = (version.pk, version.sha256)
    if key in _models:
        _models.move_to_end(key)
        return _models[key]
    from visionkit import load_model

    _models[key] = load_model(local_folder(version))
    _loads += 1
    logger.info("loaded %s v%s into this process", version.name, version.version)
    while len(_models) > int(settings.VISIONKIT_MAX_LOADED_MODELS):
        _drop(next(iter(_models)))
    return _models[key]


def _drop(key: tuple[int, str]) -> None:
    _models.pop(key, None)
    for cached in [k for k in _predictors if k[:2] == key]:
        del _predictors[cached]
    logger.info("unloaded model version id %s from this process", key[0])


def get_predictor(version: ModelVersion, *, tta: bool = False) -> Predictor:
    """The process's :class:`visionkit.Predictor` for ``version``, made on first use."""
    key = (version.pk, version.sha256, tta)
    with _lock:
        model = _model(version)
        predictor = _predictors.get(key)
        if predictor is None:
            from visionkit import Predictor

            predictor = Predictor(model, tta=tta)
            _predictors[key] = predictor
    return predictor


def loaded_versions() -> list[int]:
    """Ids of the versions this process holds, least recently used first."""
    with _lock:
        return [pk for pk, _ in _models]


def unload(version: ModelVersion) -> bool:
    """Unload ``version`` from this process; whether it was loaded."""
    with _lock:
        key = (version.pk, version.sha256)
        if key not in _models:
            return False
        _drop(key)
        return True


def load_count() -> int:
    """How many model loads this process has done (each version loads once)."""
    return _loads


def clear() -> None:
    """Forget every loaded model (tests; a process that must reload)."""
    global _loads
    with _lock:
        _models.clear()
        _predictors.clear()
        _loads = 0
