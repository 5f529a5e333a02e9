"""Alerts once per episode: opened and sent when a check crosses its threshold, closed when back.

:func:`observe` is given each check's outcome. The first crossing opens an
:class:`~portal.monitoring.models.Alert` and sends it (e-mail and webhooks,
:mod:`portal.monitoring.notify`) with the evidence; later crossings while it
is open only count; a check within bounds closes it, so the next crossing is
a new episode. The database's constraint (one open alert per kind and
version) keeps two workers from opening the same episode twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal.monitoring.models import Alert
from portal.registry.models import ModelVersion

__all__ = ["observe"]

logger = logging.getLogger(__name__)


def observe(
    *, kind: str, version: ModelVersion, crossed: bool, summary: str, evidence: dict[str, Any]
) -> Alert | None:
    """Record one check; the alert it opened (``None`` when it opened none)."""
    open_alert = Alert.objects.filter(kind=kind, model_version=version, closed_at=None).first()
    if not crossed:
        if open_alert is not None:
            Alert.objects.filter(pk=open_alert.pk).update(closed_at=timezone.now())
            logger.info("%s alert %s on %s v%s closed", kind, open_alert.pk, version.name,
                        version.version)  # fmt: skip
        return None
    if open_alert is not None:
        Alert.objects.filter(pk=open_alert.pk).update(checks=F("checks") + 1)
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                kind=kind, model_version=version, summary=summary[:300], evidence=evidence
            )
    except IntegrityError:  # another worker opened this episode a moment ago
        return None
    from portal.monitoring.notify import send

    event = {
        "event": f"{kind}-alert",
        "alert_id": alert.pk,
        "model": version.name,
        "version": version.version,
        "model_version_id": version.pk,
        "summary": alert.summary,
        "opened_at": alert.opened_at.isoformat(),
        "evidence": evidence,
    }
    alert.delivered = send(event, subject=f"[visionkit] {alert.summary}", text=alert.summary)
    alert.save(update_fields=["delivered"])
    logger.warning("%s alert %s opened on %s v%s: %s", kind, alert.pk, version.name,
                   version.version, alert.summary)  # fmt: skip
    return alert
