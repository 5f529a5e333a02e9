"""Check and coerce the options a source is opened with.

Options arrive from Python callers, YAML presets and the command line, so a
number may come as ``"5"`` and a flag as ``"true"``. These helpers accept
both, and reject anything else with an error naming the source, the option
and the value, so a typo never passes silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from visionkit.exceptions import SourceError

__all__ = ["as_bool", "as_positive_float", "as_positive_int", "check_known"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def check_known(source: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Raise if ``options`` holds a name the source does not understand.

    Raises:
        SourceError: an unknown option; the message lists the valid ones.
    """
    valid = sorted(known)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise SourceError(
            f"source {source!r} has no option {', '.join(map(repr, unknown))}; "
            f"valid options are: {', '.join(valid) or '(none)'}"
        )


def as_bool(source: str, name: str, value: Any) -> bool:
    """``value`` as a flag: a bool, 0/1, or yes/no/true/false/on/off text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SourceError(f"source {source!r}: option {name}={value!r} must be true or false")


def as_positive_int(source: str, name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as a whole number of at least ``minimum`` (``"5"`` is accepted)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or number < minimum:
        raise SourceError(
            f"source {source!r}: option {name}={value!r} must be a whole number "
            f"of at least {minimum}"
        )
    return number


def as_positive_float(source: str, name: str, value: Any) -> float:
    """``value`` as a number greater than 0 (``"0.5"`` is accepted)."""
    try:
        number = float(value) if not isinstance(value, bool) else -1.0
    except (TypeError, ValueError):
        number = -1.0
    if not number > 0 or number == float("inf"):
        raise SourceError(f"source {source!r}: option {name}={value!r} must be a number above 0")
    return number
