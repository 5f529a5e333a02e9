"""The ``ros`` adapter's options: where rosbridge is, what to publish, how hard to try.

Options arrive as keyword arguments, from Python or as text (``port="9090"``),
so every value is coerced here and a bad one fails with an
:class:`~visionkit.exceptions.AdapterError` that names the option and says
what to give.

``visionkit predict --adapter ros`` creates the adapter with no options (the
command has no way to pass adapter options yet), so each option can also be
set in the environment as ``VISIONKIT_ROS_<OPTION>``, e.g.
``VISIONKIT_ROS_HOST=192.168.1.20``. A keyword argument wins over the
environment, which wins over the default.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from visionkit.adapters import FALSE_WORDS, TRUE_WORDS, parse_flag, parse_int
from visionkit.exceptions import AdapterError

__all__ = ["ENV_PREFIX", "RosOptions"]

#: Environment variables ``VISIONKIT_ROS_<OPTION>`` give an option's value
#: when the caller did not.
ENV_PREFIX = "VISIONKIT_ROS_"

# A ROS graph resource name: relative, absolute ("/a/b") or private ("~a"),
# made of letters, digits, underscores and slashes, starting with a letter.
_ROS_NAME = re.compile(r"^(?:/|~/?)?[A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class RosOptions:
    """Everything the ``ros`` adapter can be told.

    Attributes:
        host: name or IP address of the machine running rosbridge
            (``rosbridge_server``'s websocket), without ``ws://``.
        port: rosbridge's websocket port (its default is 9090).
        targets_topic: where the ``geometry_msgs/PoseArray`` of accepted tips goes.
        tips_topic: where the ``std_msgs/String`` with each tip's plant number,
            confidence and pixel (JSON in ``data``) goes.
        frame_id: ``header.frame_id`` of the pose array: the robot's frame in
            its TF tree, which the calibration maps into.
        threshold: a tip is sent as a target when its confidence, as the
            contract JSON states it (4 decimals), is at least this; others
            are listed as skipped. 0.8, as the portal's
            ``VISIONKIT_TIP_CONFIDENCE`` (and the ``mqtt`` adapter's ``threshold``).
        z: the pose z (m) for every tip; ``None`` takes the calibration's z
            (its inoculation height), which every robot point carries.
        timeout_s: how long each step may take: opening the TCP connection,
            the websocket handshake, and the bridge's answer that it received
            a plate's messages.
        retries: connection and delivery attempts in total for one plate (at
            least 1), as for visionkit's ``webhook`` and the ``mqtt`` adapter.
        backoff_s: seconds before the second attempt; the wait doubles after
            each (0.5, 1, 2... s).
        latch: ask rosbridge to latch both topics, so a node that subscribes
            later still gets the last plate. Off by default: a robot that
            restarts should not act on an old plate.
    """

    host: str = "127.0.0.1"
    port: int = 9090
    targets_topic: str = "/visionkit/targets"
    tips_topic: str = "/visionkit/tips"
    frame_id: str = "base_link"
    threshold: float = 0.8
    z: float | None = None
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    latch: bool = False

    @property
    def url(self) -> str:
        """The rosbridge endpoint, ``ws://host:port``, as errors and logs name it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2, 3, ...)."""
        return self.backoff_s * 2 ** (attempt - 2)

    @classmethod
    def from_mapping(
        cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> RosOptions:
        """Check and coerce adapter options, filling gaps from ``VISIONKIT_ROS_*``.

        Args:
            options: the keyword options given to the adapter.
            environ: where to look for ``VISIONKIT_ROS_<OPTION>``
                (default: :data:`os.environ`).

        Raises:
            AdapterError: an unknown option (the message lists the valid
                ones) or a value of the wrong kind or out of range.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise AdapterError(
                f"unknown ros adapter option(s) {', '.join(unknown)}; "
                f"valid options are: {', '.join(sorted(fields))}"
            )
        environ = os.environ if environ is None else environ
        given: dict[str, tuple[Any, str]] = {}
        for name in fields:
            variable = ENV_PREFIX + name.upper()
            if name in options:
                given[name] = (options[name], name)
            elif environ.get(variable, "").strip():
                given[name] = (environ[variable], variable)
        values = {name: _coerce(name, label, value) for name, (value, label) in given.items()}
        made = cls(**values)
        made._check()
        return made

    def _check(self) -> None:
        if not self.host or any(c.isspace() or c in "/@?#" for c in self.host):
            _bad("host", self.host, "a host name or IP address without ws:// or a path")
        if not 1 <= self.port <= 65535:
            _bad("port", self.port, "a TCP port from 1 to 65535")
        for name in ("targets_topic", "tips_topic"):
            if not _ROS_NAME.match(getattr(self, name)):
                _bad(name, getattr(self, name), "a ROS topic name such as /visionkit/targets")
        if self.targets_topic == self.tips_topic:
            _bad("tips_topic", self.tips_topic, "a topic other than targets_topic")
        if not 0.0 <= self.threshold <= 1.0:
            _bad("threshold", self.threshold, "a number from 0 to 1")
        if self.timeout_s <= 0:
            _bad("timeout_s", self.timeout_s, "a number of seconds above 0")
        if self.retries < 1:
            _bad("retries", self.retries, "a whole number of attempts in total, at least 1")
        if self.backoff_s < 0:
            _bad("backoff_s", self.backoff_s, "a number of seconds, 0 or more")


def _bad(label: str, value: Any, wanted: str) -> NoReturn:
    raise AdapterError(f"ros adapter option {label}={value!r} is invalid: give {wanted}")


def _coerce(name: str, label: str, value: Any) -> Any:
    """The option's value in the field's type; ``label`` is how the user gave it."""
    if name in ("port", "retries"):
        return _integer(label, value)
    if name == "latch":
        return _flag(label, value)
    if name == "z":
        return None if value is None or value == "" else _number(label, value)
    if name in ("threshold", "timeout_s", "backoff_s"):
        return _number(label, value)
    return _text(label, value)


def _number(label: str, value: Any) -> float:
    if isinstance(value, bool):
        _bad(label, value, "a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        _bad(label, value, "a number")
    if not math.isfinite(number):
        _bad(label, value, "a finite number")
    return number


def _integer(label: str, value: Any) -> int:
    number = parse_int(value)
    if number is None:
        _bad(label, value, "a whole number")
    return number


def _flag(label: str, value: Any) -> bool:
    flag = parse_flag(value)
    if flag is None:
        _bad(label, value, f"true or false ({'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)})")
    return flag


def _text(label: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        _bad(label, value, "text")
    text = str(value).strip()
    if not text or any(c in text for c in "\r\n"):
        _bad(label, value, "a non-empty single line of text")
    return text
