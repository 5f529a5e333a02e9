"""The ``webhook`` adapter: POST each prediction's JSON to a URL.

Each prediction's contract JSON (:meth:`~visionkit.prediction.Prediction.to_dict`)
is sent as the body of a ``POST`` to ``url`` with ``Content-Type:
application/json``. A robot controller, a LIMS or a chat bot can listen.

Delivery is retried on what is usually passing: connection errors, timeouts,
HTTP 429 and 5xx. Any other 4xx means the request itself is wrong and is not
retried. Up to ``retries`` attempts are made in total, waiting ``backoff``,
``2 * backoff``, ``4 * backoff``... seconds between them; after the last one
an :class:`~visionkit.exceptions.AdapterError` names the URL, the number of
attempts and the last status or error.

Re-runs: a webhook delivers on every run, so each POST carries an
``Idempotency-Key`` header, the sha256 of the prediction without its
timings: the same image predicted by the same model with the same result
gets the same key, and a receiver drops a repeat by it (or keys its records
by the ``image`` field to replace an earlier result).

Authentication: ``headers`` are sent as given; if the environment variable
``VISIONKIT_WEBHOOK_TOKEN`` is set and no ``Authorization`` header was
given, ``Authorization: Bearer <token>`` is added. The token never appears
in logs or errors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from visionkit.adapters import check_options
from visionkit.adapters.base import BaseAdapter
from visionkit.exceptions import AdapterError
from visionkit.hookspecs import hookimpl
from visionkit.prediction import Prediction
from visionkit.specs import AdapterSpec

if TYPE_CHECKING:
    import requests

__all__ = [
    "TOKEN_ENV",
    "WebhookAdapter",
    "create",
    "idempotency_key",
    "visionkit_register_adapters",
]

logger = logging.getLogger(__name__)

#: Environment variable holding a bearer token for the webhook.
TOKEN_ENV = "VISIONKIT_WEBHOOK_TOKEN"

_OPTIONS = ("url", "timeout", "retries", "backoff", "headers", "sleep")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookAdapter(BaseAdapter):
    """POSTs every prediction's JSON to ``url``, retrying passing failures.

    Args:
        url: the ``http://`` or ``https://`` endpoint.
        timeout: seconds to wait for a connection and for the response.
        retries: attempts in total (at least 1).
        backoff: seconds before the second attempt; doubles after each.
        headers: extra HTTP headers, e.g. an API key.
        sleep: how to wait between attempts (``time.sleep``); tests and
            event loops may pass their own.

    Raises:
        AdapterError: the URL is not http(s), or a number is out of range.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            parts = urlsplit(str(url))
        except ValueError as exc:
            raise AdapterError(f"webhook url {url!r} cannot be parsed: {exc}") from exc
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AdapterError(
                f"webhook url {url!r} is not an http(s) URL; give e.g. url=http://host:8000/hook"
            )
        if int(retries) < 1:
            raise AdapterError(
                f"webhook retries must be at least 1 (attempts in total), got {retries}"
            )
        if float(timeout) <= 0 or float(backoff) < 0:
            raise AdapterError(
                f"webhook timeout must be > 0 and backoff >= 0 seconds, got {timeout} and {backoff}"
            )
        self.url = str(url)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.headers = {"Content-Type": "application/json", **dict(headers or {})}
        token = os.environ.get(TOKEN_ENV, "").strip()
        if token and not any(k.lower() == "authorization" for k in self.headers):
            self.headers["Authorization"] = f"Bearer {token}"
        self._sleep = sleep
        self._session: requests.Session | None = None
        self.delivered = 0

    def _post(self, body: bytes, key: str) -> requests.Response:
        import requests

        if self._session is None:
            self._session = requests.Session()
        headers = {**self.headers, "Idempotency-Key": key}
        return self._session.post(self.url, data=body, headers=headers, timeout=self.timeout)

    def write(self, prediction: Prediction) -> None:
        """POST the prediction's JSON, retrying connection errors, timeouts, 429 and 5xx.

        Raises:
            AdapterError: the prediction holds NaN, the server answered a
                4xx other than 429, or every attempt failed.
        """
        import requests

        try:
            record = prediction.to_dict()
            body = json.dumps(record, allow_nan=False).encode("utf-8")
            key = idempotency_key(record)
        except ValueError as exc:
            raise AdapterError(
                f"{prediction.image}: the prediction holds NaN or infinity ({exc}); "
                f"not sent to {self.url}"
            ) from exc
        last = "no attempt made"
        for attempt in range(1, self.retries + 1):
            if attempt > 1:
                self._sleep(self.backoff * 2 ** (attempt - 2))
            try:
                response = self._post(body, key)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}: {exc}"
            except requests.RequestException as exc:
                raise AdapterError(f"webhook {self.url} cannot be reached: {exc}") from exc
            else:
                if response.ok:
                    self.delivered += 1
                    logger.debug(
                        "%s delivered to %s (attempt %d)", prediction.image, self.url, attempt
                    )
                    return
                last = f"HTTP {response.status_code} {response.reason}: {response.text[:200]!r}"
                if not _retryable(response.status_code):
                    raise AdapterError(
                        f"webhook {self.url} refused {prediction.image} after 1 attempt "
                        f"(not retried): {last}"
                    )
            logger.warning(
                "webhook %s attempt %d/%d for %s failed: %s",
                self.url,
                attempt,
                self.retries,
                prediction.image,
                last,
            )
        raise AdapterError(
            f"webhook {self.url} failed for {prediction.image} after {self.retries} attempts; "
            f"last error: {last}"
        )

    def close(self) -> None:
        """Close the HTTP session; safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None


def idempotency_key(record: Mapping[str, Any]) -> str:
    """The sha256 of a prediction's contract JSON without ``timing_ms`` (what a re-run repeats)."""
    stable = {k: v for k, v in record.items() if k != "timing_ms"}
    text = json.dumps(stable, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create(out_dir: str | os.PathLike[str] | None = None, **options: Any) -> WebhookAdapter:
    """Create the ``webhook`` adapter; ``url`` is required, ``out_dir`` is ignored.

    Options: ``url``, ``timeout``, ``retries``, ``backoff``, ``headers``, ``sleep``.
    """
    check_options("webhook", options, _OPTIONS)
    url = options.pop("url", None)
    if not url:
        raise AdapterError("the webhook adapter needs a url option, e.g. url=http://host:8000/hook")
    return WebhookAdapter(url, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``webhook`` adapter."""
    return [AdapterSpec("webhook", create, "POST each prediction's JSON to a URL, with retries.")]
