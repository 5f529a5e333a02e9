"""Which model version answers a request: named, per station, canary, or the live slot.

Order of choice:

1. ``model=`` on the request: an id, ``name`` (its production version),
   ``name:version`` or ``name@staging``;
2. the request's ``station`` (a camera or robot name) in ``VISIONKIT_STATION_MODELS``;
3. the live slot of the deployment, read from the database on every request:
   its ``generation`` tells this process that a switch happened (logged once),
   and the new live version is loaded on this request, while requests already
   running keep the model object they hold and finish on it.

With a challenger, ``canary`` sends ``share`` of default-routed requests to it;
``shadow`` answers from the live version and, for ``share`` of them, runs the
challenger afterwards in a worker (:mod:`portal.serving.comparisons`).
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass

from django.conf import settings

from portal.common.errors import Conflict, PortalError
from portal.registry.models import ModelVersion, Stage
from portal.serving.models import Deployment, Mode

__all__ = ["Route", "resolve_reference", "route"]

logger = logging.getLogger(__name__)

_seen: dict[str, int] = {}
_seen_lock = threading.Lock()
_random = random.Random()


@dataclass(frozen=True)
class Route:
    """The version that answers, why, and the one to compare it with afterwards (if any)."""

    version: ModelVersion
    how: str  # "named", "station", "live", "canary"
    deployment: Deployment | None = None
    compare_with: ModelVersion | None = None
    mode: str = Mode.OFF


def resolve_reference(reference: str | int) -> ModelVersion:
    """A model version from an id, ``name``, ``name:version`` or ``name@stage``.

    Raises:
        PortalError: nothing matches (the message says what exists).
    """
    text = str(reference).strip()
    if text.isdigit():
        found = ModelVersion.objects.filter(pk=int(text)).first()
        if found is None:
            raise PortalError(f"no model version has id {text}; see GET /api/models/")
        return found
    if ":" in text:
        name, version = text.split(":", 1)
        found = ModelVersion.objects.filter(name=name, version=version).first()
        if found is None:
            raise PortalError(
                f"no model {name} version {version}; see GET /api/models/?name={name}"
            )
        return found
    name, _, stage = text.partition("@")
    stage = stage or Stage.PRODUCTION
    if stage not in (Stage.STAGING, Stage.PRODUCTION):
        raise PortalError(f"{text}: a stage after @ is staging or production")
    found = (
        ModelVersion.objects.filter(name=name, stage=stage).order_by("-stage_changed_at").first()
    )
    if found is None:
        raise PortalError(f"no version of {name!r} is in {stage}; see GET /api/models/")
    return found


def _station_models() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for entry in settings.VISIONKIT_STATION_MODELS:
        station, sep, model = entry.partition("=")
        if sep and station.strip() and model.strip():
            pairs[station.strip()] = model.strip()
    return pairs


def _live_deployment() -> Deployment | None:
    """The deployment default requests go to: the most recently switched one with a live slot."""
    return (
        Deployment.objects.select_related("blue", "green", "challenger")
        .exclude(blue=None, green=None)
        .order_by("-switched_at", "-id")
        .first()
    )


def _note_generation(deployment: Deployment) -> None:
    with _seen_lock:
        before = _seen.get(deployment.name)
        if before != deployment.generation:
            _seen[deployment.name] = deployment.generation
            if before is not None:
                logger.info("%s: generation %d -> %d, serving version id %s from now on",
                            deployment.name, before, deployment.generation,
                            deployment.live_id)  # fmt: skip


def route(*, model: str | int | ModelVersion | None = None, station: str = "") -> Route:
    """The version that answers this request (see the module docstring).

    Raises:
        PortalError: ``model`` or the station's model names nothing.
        Conflict: nothing named and nothing is live.
    """
    if isinstance(model, ModelVersion):
        return Route(model, "named")
    if model not in (None, ""):
        return Route(resolve_reference(model), "named")
    if station:
        chosen = _station_models().get(station)
        if chosen:
            return Route(resolve_reference(chosen), "station")
    deployment = _live_deployment()
    if deployment is None or deployment.live_id is None:
        from portal.predictions.loader import production_version

        production = production_version()
        if production is None:
            raise Conflict(
                "no model version is in production: register one and promote it "
                "(POST /api/models/{id}/promote/ or manage.py promote), or name a model"
            )
        return Route(production, "live")
    _note_generation(deployment)
    live = deployment.blue if deployment.live_id == deployment.blue_id else deployment.green
    assert live is not None
    challenger = deployment.challenger
    drawn = challenger is not None and deployment.mode != Mode.OFF
    if drawn and _random.random() < deployment.share:
        assert challenger is not None
        if deployment.mode == Mode.CANARY:
            return Route(challenger, "canary", deployment, live, Mode.CANARY)
        return Route(live, "live", deployment, challenger, Mode.SHADOW)
    return Route(live, "live", deployment)
