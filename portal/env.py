"""Typed readers for environment variables: the only way settings see the environment.

Each helper reads one variable, turns it into the type a setting needs and
raises :class:`~django.core.exceptions.ImproperlyConfigured` naming the
variable and the bad value when it cannot, so a typo in a deployment fails at
start-up instead of deep inside a request. An unset variable and an empty one
(``VAR=`` in a compose file) both mean "use the default"; a variable without
a default is required.

Every helper takes ``environ`` (default :data:`os.environ`) so tests can pass a
plain dict.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "AZURE_STORAGE_BACKEND",
    "env_azure_storage",
    "env_bool",
    "env_database_url",
    "env_float",
    "env_int",
    "env_list",
    "env_str",
]


class _Missing:
    """The default of a required variable: there is none."""


_REQUIRED: Final = _Missing()

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})
_SQLITE_SCHEMES = frozenset({"sqlite"})


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _required(name: str, what: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"environment variable {name} is required: set it to {what}")


def _invalid(name: str, value: str, what: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"environment variable {name}={value!r} is invalid: give {what}")


def env_str(
    name: str,
    default: str | _Missing = _REQUIRED,
    *,
    choices: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """A text variable, optionally one of ``choices``.

    Raises:
        ImproperlyConfigured: the variable is required and unset, or not one
            of ``choices``.
    """
    value = _raw(name, environ)
    if value is None:
        if isinstance(default, _Missing):
            raise _required(name, "a value" if not choices else f"one of {', '.join(choices)}")
        return default
    if choices is not None and value not in choices:
        raise _invalid(name, value, f"one of {', '.join(choices)}")
    return value


def env_bool(
    name: str,
    default: bool | _Missing = _REQUIRED,
    *,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """A flag: ``1/true/yes/on`` or ``0/false/no/off`` (any case).

    Raises:
        ImproperlyConfigured: any other value, or required and unset.
    """
    value = _raw(name, environ)
    if value is None:
        if isinstance(default, _Missing):
            raise _required(name, "1 or 0")
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _invalid(name, value, "1/true/yes/on or 0/false/no/off")


def env_int(
    name: str,
    default: int | _Missing = _REQUIRED,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """A whole number, optionally within ``[minimum, maximum]``.

    Raises:
        ImproperlyConfigured: not a whole number, out of range, or required and unset.
    """
    value = _raw(name, environ)
    if value is None:
        if isinstance(default, _Missing):
            raise _required(name, "a whole number")
        return default
    try:
        number = int(value)
    except ValueError:
        raise _invalid(name, value, "a whole number") from None
    if minimum is not None and number < minimum:
        raise _invalid(name, value, f"a whole number of at least {minimum}")
    if maximum is not None and number > maximum:
        raise _invalid(name, value, f"a whole number of at most {maximum}")
    return number


def env_float(
    name: str,
    default: float | _Missing = _REQUIRED,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    """A number, optionally within ``[minimum, maximum]``.

    Raises:
        ImproperlyConfigured: not a finite number, out of range, or required and unset.
    """
    value = _raw(name, environ)
    if value is None:
        if isinstance(default, _Missing):
            raise _required(name, "a number")
        return default
    try:
        number = float(value)
    except ValueError:
        raise _invalid(name, value, "a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _invalid(name, value, "a finite number")
    if minimum is not None and number < minimum:
        raise _invalid(name, value, f"a number of at least {minimum}")
    if maximum is not None and number > maximum:
        raise _invalid(name, value, f"a number of at most {maximum}")
    return number


def env_list(
    name: str,
    default: Sequence[str] | _Missing = _REQUIRED,
    *,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """A comma-separated list; blanks around items and empty items are dropped.

    Raises:
        ImproperlyConfigured: required and unset.
    """
    value = _raw(name, environ)
    if value is None:
        if isinstance(default, _Missing):
            raise _required(name, "a comma-separated list")
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database_url(
    name: str = "DATABASE_URL",
    default: str | _Missing = _REQUIRED,
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A database URL, as one entry of Django's ``DATABASES``.

    Supported:

    * ``sqlite:///relative/path.sqlite3``, ``sqlite:////absolute/path.sqlite3``
      and ``sqlite://:memory:``;
    * ``postgres://user:password@host:port/name?sslmode=require`` (also
      ``postgresql://``), served by psycopg. Query parameters become
      ``OPTIONS``, except ``conn_max_age`` (seconds), which sets
      ``CONN_MAX_AGE``. Percent-encode special characters in the password.

    Raises:
        ImproperlyConfigured: an unsupported scheme, a missing database name,
            a bad port, or required and unset.
    """
    url = _raw(name, environ)
    if url is None:
        if isinstance(default, _Missing):
            raise _required(name, "a URL such as postgres://user@host:5432/visionkit")
        url = default
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _SQLITE_SCHEMES:
        return _sqlite(name, url, parts.netloc, parts.path)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(name, url)
    shown = _redact(url)
    raise _invalid(name, shown, "a sqlite:/// or postgres:// URL")


def _redact(url: str) -> str:
    """The URL with its password replaced, fit for an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _sqlite(name: str, url: str, netloc: str, path: str) -> dict[str, Any]:
    if netloc == ":memory:" or path in ("/:memory:", ":memory:"):
        database = ":memory:"
    elif netloc:
        raise _invalid(name, url, "sqlite:///relative.sqlite3 or sqlite:////absolute.sqlite3")
    else:
        database = unquote(path[1:])
    if not database:
        raise _invalid(name, url, "a sqlite URL with a file path, e.g. sqlite:////data/db.sqlite3")
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": database,
        # The web server and the django-q2 worker write at once: wait for the
        # lock instead of failing, take it up front, and let readers read
        # while one writes (write-ahead log).
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def _postgres(name: str, url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    shown = _redact(url)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise _invalid(
            name, shown, "a database name after the host, e.g. postgres://host/visionkit"
        )
    try:
        port = parts.port
    except ValueError:
        raise _invalid(name, shown, "a numeric port, e.g. postgres://host:5432/visionkit") from None
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    config: dict[str, Any] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(port) if port is not None else "",
    }
    if "conn_max_age" in options:
        value = options.pop("conn_max_age")
        if not value.isdigit():
            raise _invalid(name, shown, "conn_max_age as whole seconds, e.g. ?conn_max_age=60")
        config["CONN_MAX_AGE"] = int(value)
    if options:
        config["OPTIONS"] = options
    return config


#: django-storages' Blob Storage backend, which ``env_azure_storage`` options configure.
AZURE_STORAGE_BACKEND = "storages.backends.azure_storage.AzureStorage"


def env_azure_storage(*, environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """django-storages ``AzureStorage`` options from ``VISIONKIT_AZURE_STORAGE_*``, or ``None``.

    ``None`` (the portal keeps its local files) unless ``..._CONNECTION_STRING``
    or ``..._ACCOUNT_NAME`` is set. With an account name, ``..._ACCOUNT_KEY`` or
    ``..._SAS_TOKEN`` authenticates; with neither, ``DefaultAzureCredential``
    (a managed identity) does. ``..._CONTAINER`` (default ``visionkit``) and
    ``..._PREFIX`` (a folder in it) say where the files go. The names are
    spelled out, not built from a prefix, so a search for one finds its reader.

    Raises:
        ImproperlyConfigured: both a connection string and an account name, or a
            container name Blob Storage refuses.
    """
    connection_string = _raw("VISIONKIT_AZURE_STORAGE_CONNECTION_STRING", environ)
    account = _raw("VISIONKIT_AZURE_STORAGE_ACCOUNT_NAME", environ)
    if connection_string is None and account is None:
        return None
    if connection_string is not None and account is not None:
        raise ImproperlyConfigured(
            "environment variables VISIONKIT_AZURE_STORAGE_CONNECTION_STRING and "
            "VISIONKIT_AZURE_STORAGE_ACCOUNT_NAME are both set: give one of them"
        )
    container = env_str("VISIONKIT_AZURE_STORAGE_CONTAINER", "visionkit", environ=environ)
    bare = container.replace("-", "")
    if not (3 <= len(container) <= 63 and bare.isalnum() and bare == bare.lower()):
        what = "3-63 lower-case letters, digits, hyphens"
        raise _invalid("VISIONKIT_AZURE_STORAGE_CONTAINER", container, what)
    options: dict[str, Any] = {
        "azure_container": container,
        "location": env_str("VISIONKIT_AZURE_STORAGE_PREFIX", "", environ=environ).strip("/"),
        "overwrite_files": False,
    }
    if connection_string is not None:
        return options | {"connection_string": connection_string}
    options["account_name"] = account
    key = _raw("VISIONKIT_AZURE_STORAGE_ACCOUNT_KEY", environ)
    sas = _raw("VISIONKIT_AZURE_STORAGE_SAS_TOKEN", environ)
    if key is not None:
        options["account_key"] = key
    elif sas is not None:
        options["sas_token"] = sas.lstrip("?")
    else:
        from azure.identity import DefaultAzureCredential

        options["token_credential"] = DefaultAzureCredential()
    return options
