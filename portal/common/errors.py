"""The portal's errors and the one JSON shape every API error takes.

Hierarchy::

    PortalError (ValueError)        400: the request cannot be done as asked
    ├── Conflict                    409: it clashes with the state (a finished job, a taken version)
    ├── TooLarge                    413: an upload over a limit (the message names it)
    └── ArchiveError                400: a zip that is unsafe or malformed (portal.common.archives)

Services raise these with a message that says what to do; views let them
propagate and :func:`exception_handler` turns them, and DRF's own errors,
into::

    {"detail": "what went wrong and what to do", "code": "invalid",
     "errors": {"field": ["..."]}, "problems": ["..."]}

``errors`` appears for field validation, ``problems`` for a list of findings
(every problem in a data set zip, every unknown parameter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = ["ArchiveError", "Conflict", "PortalError", "TooLarge", "exception_handler"]


class PortalError(ValueError):
    """A request the portal cannot do; ``problems`` lists the findings behind it."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(self, message: str, *, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


class Conflict(PortalError):  # noqa: N818 - named for its HTTP status, as DRF's NotFound
    """The request clashes with the current state (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class TooLarge(PortalError):  # noqa: N818 - named for its HTTP status, as DRF's NotFound
    """An upload over a size limit (HTTP 413); the message names the limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


class ArchiveError(PortalError):
    """A zip that is unsafe (paths leaving the folder, links, bombs) or unreadable."""

    code = "bad_archive"


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, Mapping):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    if isinstance(detail, list | tuple):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _code_of(exc: APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    flat = _flatten(codes)
    return "invalid" if len(set(flat)) != 1 else flat[0].rsplit(": ", 1)[-1]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with :class:`PortalError` added and every body in the one shape."""
    if isinstance(exc, PortalError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.problems:
            body["problems"] = exc.problems
        return Response(body, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, APIException):
        return response
    data = response.data
    if isinstance(data, Mapping) and set(data) == {"detail"}:
        response.data = {"detail": str(data["detail"]), "code": _code_of(exc)}
    else:
        messages = _flatten(data)
        body = {"detail": "check the request: " + "; ".join(messages), "code": "invalid"}
        if isinstance(data, Mapping):
            body["errors"] = data
        else:
            body["problems"] = messages
        response.data = body
    return response
