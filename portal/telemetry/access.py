"""Who may read ``/metrics``: a scraper with the token, or one on a trusted network.

``/metrics`` tells how busy the portal is and which models run, so it is not
open; it is not behind a login either, since Prometheus has none. A request is
let in when

- it carries ``Authorization: Bearer <VISIONKIT_METRICS_TOKEN>`` (compared in
  constant time; only when the setting is not empty), or
- its ``REMOTE_ADDR`` is inside one of ``VISIONKIT_METRICS_NETWORKS`` (default
  ``127.0.0.1/32,::1/128``) and it carries no ``X-Forwarded-For`` or
  ``Forwarded`` header: a reverse proxy on this host makes every outside
  client look local, and such a proxy says so in those headers.

The token is never logged.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

__all__ = ["allowed", "check_settings", "networks"]

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED")


@functools.cache
def _parse(values: tuple[str, ...]) -> tuple[Network, ...]:
    parsed: list[Network] = []
    for value in values:
        try:
            parsed.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"VISIONKIT_METRICS_NETWORKS holds {value!r}, which is not a network: give "
                f"addresses or CIDR ranges separated by commas, e.g. 127.0.0.1/32,10.0.0.0/8"
            ) from None
    return tuple(parsed)


def networks() -> tuple[Network, ...]:
    """The networks of ``VISIONKIT_METRICS_NETWORKS``.

    Raises:
        ImproperlyConfigured: an entry is not an address or CIDR range.
    """
    return _parse(tuple(str(v) for v in settings.VISIONKIT_METRICS_NETWORKS))


def _has_token(request: HttpRequest) -> bool:
    token = str(settings.VISIONKIT_METRICS_TOKEN)
    if not token:
        return False
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _from_network(request: HttpRequest) -> bool:
    if any(request.META.get(header) for header in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return any(address in network for network in networks())


def allowed(request: HttpRequest) -> bool:
    """Whether ``request`` may read the metrics (see the module docstring)."""
    if _has_token(request) or _from_network(request):
        return True
    logger.info("refused /metrics to %s", request.META.get("REMOTE_ADDR", "?"))
    return False


def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """A system check: ``VISIONKIT_METRICS_NETWORKS`` parses, so a typo fails at start-up."""
    try:
        networks()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="telemetry.E001")]
    return []
