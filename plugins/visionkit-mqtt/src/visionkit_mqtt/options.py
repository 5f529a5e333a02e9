"""The ``mqtt`` adapter's settings: options, and credentials and TLS from the environment.

Options arrive as keyword arguments (from Python, or as text), and any option
not given falls back to the environment variable ``VISIONKIT_MQTT_<NAME>``
(``VISIONKIT_MQTT_HOST``, ``VISIONKIT_MQTT_PORT``...), then to its default.
The fallback exists because ``visionkit predict --adapter mqtt`` creates the
adapter with no options: the environment is how a command line reaches it.
Every value is coerced here and a bad one fails with an
:class:`~visionkit.exceptions.AdapterError` that names the option and where
it came from.

Credentials and TLS come from the environment *only* (:class:`Security`), so
a password never sits in a command line, a shell history or a config file
that is committed; it is never logged and never part of an error message.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from visionkit.exceptions import AdapterError

__all__ = ["ENV_PREFIX", "SECURITY_ENV", "MqttOptions", "Security"]

#: Prefix of the environment variables that configure the adapter.
ENV_PREFIX = "VISIONKIT_MQTT_"

#: The environment variables that hold credentials and TLS settings.
SECURITY_ENV = (
    "VISIONKIT_MQTT_USERNAME",
    "VISIONKIT_MQTT_PASSWORD",
    "VISIONKIT_MQTT_TLS",
    "VISIONKIT_MQTT_CA_FILE",
    "VISIONKIT_MQTT_CERT_FILE",
    "VISIONKIT_MQTT_KEY_FILE",
)

_SECURITY_NAMES = frozenset(n.removeprefix(ENV_PREFIX).lower() for n in SECURITY_ENV)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class MqttOptions:
    """Where and how the ``mqtt`` adapter publishes.

    Attributes:
        host: the broker's host name or address.
        port: the broker's TCP port (1883 plain, 8883 usually for TLS).
        qos: MQTT quality of service of every message: 0 (at most once),
            1 (at least once; the default) or 2 (exactly once). With 1 or 2 a
            message counts as sent only once the broker acknowledged it.
        retain: ask the broker to keep the last message of each topic for
            subscribers that connect later; the tip topics of plants not
            accepted then get an empty message, clearing a stale retained tip
            (see :mod:`visionkit_mqtt.messages`).
        client_id: the MQTT client id; empty (the default) makes a unique one
            per adapter, so two visionkit processes never push each other off.
        keepalive: seconds between keep-alive pings (0 turns them off).
        timeout_s: seconds to wait for the connection (TCP, TLS and the
            broker's CONNACK) and for the broker to acknowledge one
            prediction's messages.
        retries: connection or delivery attempts in total for one prediction
            (at least 1), as for visionkit's ``webhook`` adapter.
        backoff_s: seconds before the second attempt; doubles after each.
        topic_prefix: the first topic level(s), e.g. ``lab2/visionkit``.
        threshold: a tip is published on its own topic when its confidence,
            as the contract states it (4 decimals), is at least this, and it
            has robot coordinates.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    qos: int = 1
    retain: bool = False
    client_id: str = ""
    keepalive: int = 60
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    topic_prefix: str = "visionkit"
    threshold: float = 0.8

    @classmethod
    def from_mapping(
        cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> MqttOptions:
        """Check and coerce options, filling the missing ones from ``VISIONKIT_MQTT_<NAME>``.

        Args:
            options: keyword options; these win over the environment.
            environ: the environment (default: ``os.environ``).

        Raises:
            AdapterError: an unknown option (the message lists the valid ones,
                and says credentials and TLS come from the environment), or a
                value of the wrong kind or out of range.
        """
        environ = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(fields))
        if unknown:
            hint = ""
            if _SECURITY_NAMES & set(unknown):
                hint = "; credentials and TLS come from the environment only: " + ", ".join(
                    SECURITY_ENV
                )
            raise AdapterError(
                f"unknown mqtt adapter option(s) {', '.join(unknown)}; "
                f"valid options are: {', '.join(sorted(fields))}{hint}"
            )
        values: dict[str, Any] = {}
        from_env: dict[str, str] = {}
        try:
            for name, spec in fields.items():
                if name in options:
                    value = options[name]
                else:
                    variable = ENV_PREFIX + name.upper()
                    if not environ.get(variable, "").strip():
                        continue
                    value = environ[variable]
                    from_env[name] = variable
                values[name] = _coerce(name, spec.default, value)
            made = cls(**values)
            made._check()
        except _BadOptionError as exc:
            if exc.option in from_env:
                raise AdapterError(f"{exc} (read from {from_env[exc.option]})") from None
            raise
        return made

    @property
    def prefix(self) -> str:
        """The topic prefix without leading or trailing slashes."""
        return self.topic_prefix.strip("/")

    def _check(self) -> None:
        if not 1 <= self.port <= 65535:
            _bad("port", self.port, "a TCP port from 1 to 65535")
        if self.qos not in (0, 1, 2):
            _bad("qos", self.qos, "0, 1 or 2")
        if not 0 <= self.keepalive <= 65535:
            _bad("keepalive", self.keepalive, "seconds from 0 (off) to 65535")
        if self.timeout_s <= 0:
            _bad("timeout_s", self.timeout_s, "seconds above 0")
        if self.retries < 1:
            _bad("retries", self.retries, "attempts in total, at least 1")
        if self.backoff_s < 0:
            _bad("backoff_s", self.backoff_s, "seconds, 0 or more")
        if not 0.0 <= self.threshold <= 1.0:
            _bad("threshold", self.threshold, "a confidence from 0 to 1")
        if any(c in self.host for c in " /"):
            _bad("host", self.host, "a host name or address (no scheme, port or path)")
        prefix = self.prefix
        if not prefix or any(c in prefix for c in "+#\0") or prefix.startswith("$"):
            _bad(
                "topic_prefix",
                self.topic_prefix,
                "topic levels without the wildcards + and #, not starting with $",
            )


@dataclass(frozen=True)
class Security:
    """Credentials and TLS for the broker, read from the environment only.

    Attributes:
        username: ``VISIONKIT_MQTT_USERNAME``; ``None`` connects anonymously.
        password: ``VISIONKIT_MQTT_PASSWORD``; never shown by ``repr``,
            :meth:`describe`, logs or errors.
        tls: ``VISIONKIT_MQTT_TLS=1``, or implied by any of the files below;
            the broker's certificate is checked against the system's CAs
            unless a CA file is given.
        ca_file: ``VISIONKIT_MQTT_CA_FILE``: the CA bundle that signed the
            broker's certificate (a private CA).
        cert_file, key_file: ``VISIONKIT_MQTT_CERT_FILE`` and
            ``VISIONKIT_MQTT_KEY_FILE``: a client certificate and its key,
            for brokers that authenticate clients by certificate.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Security:
        """Read the ``VISIONKIT_MQTT_*`` credential and TLS variables.

        Raises:
            AdapterError: ``VISIONKIT_MQTT_TLS`` is not a yes/no value, a
                password is set without a user name, a key without a
                certificate, or a named file does not exist.
        """
        environ = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = environ.get(ENV_PREFIX + name, "")
            return value if value.strip() else None

        tls_text = (get("TLS") or "").strip().lower()
        if tls_text not in _TRUE + _FALSE:
            raise AdapterError(
                f"VISIONKIT_MQTT_TLS={environ.get('VISIONKIT_MQTT_TLS')!r} is invalid: "
                f"give 1 (TLS with the system's CAs) or 0"
            )
        files: dict[str, str | None] = {}
        for name in ("CA_FILE", "CERT_FILE", "KEY_FILE"):
            path = get(name)
            if path is not None and not Path(path).expanduser().is_file():
                raise AdapterError(
                    f"{ENV_PREFIX}{name}={path!r}: no such file; give the path of a PEM file"
                )
            files[name] = None if path is None else str(Path(path).expanduser())
        made = cls(
            username=get("USERNAME"),
            password=environ.get(ENV_PREFIX + "PASSWORD") or None,
            tls=tls_text in _TRUE or any(files.values()),
            ca_file=files["CA_FILE"],
            cert_file=files["CERT_FILE"],
            key_file=files["KEY_FILE"],
        )
        if made.password is not None and made.username is None:
            raise AdapterError(
                "VISIONKIT_MQTT_PASSWORD is set but VISIONKIT_MQTT_USERNAME is not; set both"
            )
        if made.key_file is not None and made.cert_file is None:
            raise AdapterError(
                "VISIONKIT_MQTT_KEY_FILE is set but VISIONKIT_MQTT_CERT_FILE is not; set both"
            )
        return made

    def describe(self) -> str:
        """How the adapter authenticates, for logs: never the password itself."""
        who = f"user {self.username!r}" if self.username else "anonymous"
        if self.password:
            who += " with a password"
        if not self.tls:
            return f"{who}, no TLS"
        trust = f"CA file {self.ca_file}" if self.ca_file else "the system's CAs"
        mine = f", client certificate {self.cert_file}" if self.cert_file else ""
        return f"{who}, TLS checked against {trust}{mine}"


class _BadOptionError(AdapterError):
    """An option's value is wrong; ``option`` names it, so the caller can say where it came from."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def _bad(name: str, value: Any, wanted: str) -> NoReturn:
    raise _BadOptionError(name, f"mqtt adapter option {name}={value!r} is invalid: give {wanted}")


def _coerce(name: str, default: Any, value: Any) -> Any:
    """``value`` as the type of ``default``; ``name`` names the option in errors."""
    if isinstance(default, bool):
        return _flag(name, value)
    if isinstance(default, int):
        return _integer(name, value)
    if isinstance(default, float):
        return _number(name, value)
    return _text(name, value, empty_ok=not default)


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    _bad(name, value, "true or false (1 or 0)")


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        _bad(name, value, "a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    _bad(name, value, "a whole number")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        _bad(name, value, "a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        _bad(name, value, "a number")
    if not math.isfinite(number):
        _bad(name, value, "a finite number")
    return number


def _text(name: str, value: Any, *, empty_ok: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        _bad(name, value, "text")
    text = str(value).strip()
    if (not text and not empty_ok) or any(c in text for c in "\r\n\0"):
        _bad(name, value, "a non-empty single line of text")
    return text
