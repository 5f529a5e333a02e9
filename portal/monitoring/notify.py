"""Telling people: e-mail through Django's mail settings, and a JSON POST to each webhook.

Approvers (users with the promote capability and an e-mail address) and the
addresses in ``VISIONKIT_ALERT_EMAILS`` get the mail; every URL in
``VISIONKIT_ALERT_WEBHOOKS`` gets the same event as JSON. A channel that
fails is retried briefly, then its error is returned (and kept with the
alert): a monitoring check never fails because a mail server is down.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.core.mail import send_mail

if TYPE_CHECKING:
    from portal.registry.models import GateCheck

__all__ = ["candidate_gated", "recipients", "send"]

logger = logging.getLogger(__name__)

_ATTEMPTS = 3
_TIMEOUT_S = 5.0


def recipients() -> list[str]:
    """Approvers' addresses and ``VISIONKIT_ALERT_EMAILS``, each once."""
    from portal.accounts.models import User
    from portal.accounts.permissions import Capability, can

    found = [u.email for u in User.objects.filter(is_active=True).exclude(email="")
             if can(u, Capability.PROMOTE)]  # fmt: skip
    return list(dict.fromkeys([*found, *settings.VISIONKIT_ALERT_EMAILS]))


def _post(url: str, event: dict[str, Any]) -> str:
    body = json.dumps(event, default=str)
    error = ""
    for attempt in range(_ATTEMPTS):
        try:
            response = requests.post(url, data=body, timeout=_TIMEOUT_S,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
            if response.status_code < 300:
                return "sent"
            error = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        time.sleep(0.2 * (attempt + 1))
    logger.warning("webhook %s refused the event %s: %s", url.split("?")[0], event["event"], error)
    return error


def send(event: dict[str, Any], *, subject: str, text: str) -> dict[str, str]:
    """Mail and post ``event``; channel -> ``"sent"`` or why not."""
    delivered: dict[str, str] = {}
    to = recipients()
    if to:
        try:
            send_mail(subject, text + "\n\n" + json.dumps(event, indent=2, default=str),
                      None, to)  # fmt: skip
            delivered["email"] = "sent"
        except OSError as exc:
            delivered["email"] = f"{type(exc).__name__}: {exc}"
            logger.warning("alert mail not sent: %s", exc)
    for index, url in enumerate(settings.VISIONKIT_ALERT_WEBHOOKS):
        delivered[f"webhook {index + 1}"] = _post(url, event)
    return delivered


def candidate_gated(check: GateCheck) -> dict[str, str]:
    """Tell approvers a candidate was gated: ready for approval, or why not."""
    candidate = check.candidate
    verdict = "passed" if check.passed else "failed"
    lines = [
        f"{row['metric']}: {row['candidate']} vs production {row['production']} "
        f"({'ok' if row['passed'] else 'FAILED'}, {row['why']})"
        for row in check.comparison
    ]
    event = {
        "event": "candidate-gated",
        "model": candidate.name,
        "version": candidate.version,
        "model_version_id": candidate.pk,
        "passed": check.passed,
        "stage": candidate.stage,
        "baseline_version": check.baseline.version if check.baseline else None,
        "dataset_version": check.dataset.version,
        "comparison": check.comparison,
    }
    subject = f"[visionkit] {candidate.name} v{candidate.version}: gate {verdict}"
    text = (f"{candidate.name} v{candidate.version} {verdict} its gate against "
            f"{'v' + check.baseline.version if check.baseline else 'no production version'}."
            + ("\nIt awaits an approver's decision for production." if check.passed else "")
            + "\n\n" + "\n".join(lines))  # fmt: skip
    return send(event, subject=subject, text=text)
