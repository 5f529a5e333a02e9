"""Writes of serving: switch a deployment's live slot, set a challenger's traffic.

:func:`switch` is called by the registry inside the transaction that moves a
version into production (``promote`` or ``rollback``), after the version was
smoke-checked in the idle slot: it puts the version in the idle slot (or
finds it already there), makes that slot live and adds one to the
generation, so the stage change and the switch commit together or not at all.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from portal.common.errors import Conflict, PortalError
from portal.serving.models import Deployment, DeploymentEvent, Mode, Slot

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.registry.models import ModelVersion

__all__ = ["drop_challenger", "in_idle_slot", "set_traffic", "switch"]

logger = logging.getLogger(__name__)


def _locked(name: str) -> Deployment:
    deployment, _ = Deployment.objects.get_or_create(name=name)
    return Deployment.objects.select_for_update().get(pk=deployment.pk)


def in_idle_slot(version: ModelVersion) -> bool:
    """Whether ``version`` is loaded in its deployment's idle slot (a rollback needs no smoke)."""
    deployment = Deployment.objects.filter(name=version.name).first()
    return deployment is not None and deployment.idle_id == version.pk


def switch(
    *,
    version: ModelVersion,
    user: User | None,
    reason: str,
    smoke: dict[str, Any] | None,
    action: str,
) -> Deployment:
    """Make ``version`` live in its deployment (inside the caller's transaction)."""
    deployment = _locked(version.name)
    if deployment.live_id == version.pk:
        return deployment
    slot = (
        Slot.BLUE
        if deployment.live_id is None and deployment.idle_id is None
        else (deployment.idle_slot)
    )
    if getattr(deployment, f"{slot}_id") != version.pk:
        setattr(deployment, slot, version)
    deployment.live_slot = slot
    deployment.generation += 1
    deployment.switched_at = timezone.now()
    if deployment.challenger_id == version.pk:
        deployment.challenger = None
        deployment.mode = Mode.OFF
        deployment.share = 0.0
    deployment.save()
    DeploymentEvent.objects.create(
        deployment=deployment, action=action, model_version=version, slot=slot,
        generation=deployment.generation, smoke=smoke, reason=reason, by=user,
    )  # fmt: skip
    logger.info("%s: v%s live in the %s slot (generation %d, %s)", version.name,
                version.version, slot, deployment.generation, action)  # fmt: skip
    return deployment


def drop_challenger(version: ModelVersion) -> None:
    """A version that left staging stops taking canary or shadow traffic."""
    deployment = Deployment.objects.filter(name=version.name, challenger=version).first()
    if deployment is None:
        return
    deployment = _locked(version.name)
    deployment.challenger, deployment.mode, deployment.share = None, Mode.OFF, 0.0
    deployment.save()
    DeploymentEvent.objects.create(
        deployment=deployment, action="challenger-dropped", model_version=version,
        generation=deployment.generation, reason=f"v{version.version} left staging",
    )  # fmt: skip


@transaction.atomic
def set_traffic(
    *, version: ModelVersion | None, name: str, mode: str, share: float, user: User, reason: str
) -> Deployment:
    """Give a staging version a canary or shadow share of ``name``'s live requests (or none).

    Raises:
        PortalError: an unknown mode, a share outside 0..1, no reason.
        Conflict: the version is not in staging, is of another name, or nothing is live.
    """
    if mode not in Mode.values:
        raise PortalError(f"unknown mode {mode!r}; modes are {', '.join(Mode.values)}")
    if not 0.0 <= share <= 1.0:
        raise PortalError(f"share must be between 0 and 1, not {share}")
    if not reason.strip():
        raise PortalError("give a reason: it goes into the audit trail")
    if mode != Mode.OFF:
        if version is None:
            raise PortalError(f"{mode} needs a staging version: name it")
        if version.stage != "staging" or version.name != name:
            raise Conflict(f"{version.name} v{version.version} is {version.stage}; only a "
                           f"staging version of {name} can take {mode} traffic")  # fmt: skip
    deployment = _locked(name)
    if mode != Mode.OFF and deployment.live_id is None:
        raise Conflict(f"nothing of {name} is live yet: promote a version to production first")
    deployment.challenger = version if mode != Mode.OFF else None
    deployment.mode = mode
    deployment.share = share if mode != Mode.OFF else 0.0
    deployment.save()
    DeploymentEvent.objects.create(
        deployment=deployment, action="traffic", model_version=deployment.challenger,
        slot="", generation=deployment.generation, reason=reason, by=user,
        detail={"mode": mode, "share": deployment.share},
    )  # fmt: skip
    logger.info("%s: challenger %s in %s mode on %.0f%% of requests", name,
                version.version if version else "-", mode, 100 * deployment.share)  # fmt: skip
    return deployment
