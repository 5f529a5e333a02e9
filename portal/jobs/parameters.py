"""Which parameters each kind of job takes, checked before anything is queued.

A training job takes the settings of :class:`visionkit.training.config.TrainConfig`
a user may choose (the portal sets the data and output folders and the
tracking itself); an evaluation job the scoring options of
:func:`visionkit.evaluation.evaluate.evaluate`; a batch prediction the
calibration and test-time augmentation. An unknown key is refused naming it
and the keys that exist; a bad value is refused with the library's own
message, so a typo costs a 400, not a failed job an hour later.

A training job also takes where it runs: ``backend`` ``local`` (default, a
django-q2 worker here) or ``azureml`` (:mod:`portal.jobs.azureml`), with the
Azure ``vm_size`` and ``nodes`` (defaults from ``VISIONKIT_AZUREML_*``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from portal.common.errors import PortalError

__all__ = ["check_parameters", "known_parameters"]

#: TrainConfig fields the portal decides, never the user.
_TRAIN_RESERVED = frozenset(
    {"data_dir", "val_dir", "out_dir", "track", "experiment", "register", "init_from", "cache"}
)


#: Training keys that say where the job runs, not how it trains.
TRAIN_PLACEMENT = frozenset({"backend", "vm_size", "nodes"})
#: Where a training job may run.
TRAIN_BACKENDS = ("local", "azureml")


def _train_keys() -> frozenset[str]:
    from visionkit.training.config import TrainConfig

    return (frozenset(f.name for f in fields(TrainConfig)) - _TRAIN_RESERVED) | TRAIN_PLACEMENT


def _number(minimum: float | None = None) -> Callable[[str, Any], Any]:
    def check(key: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PortalError(f"parameter {key} must be a number, not {value!r}")
        if minimum is not None and value < minimum:
            raise PortalError(f"parameter {key} must be at least {minimum}, not {value!r}")
        return value

    return check


def _whole(minimum: int) -> Callable[[str, Any], Any]:
    def check(key: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise PortalError(f"parameter {key} must be a whole number >= {minimum}, not {value!r}")
        return value

    return check


def _flag(key: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise PortalError(f"parameter {key} must be true or false, not {value!r}")
    return value


def _share(key: str, value: Any) -> Any:
    """A share in [0, 1), such as a risk."""
    _number(0.0)(key, value)
    if value >= 1:
        raise PortalError(f"parameter {key} must be below 1, not {value!r}")
    return value


def _text(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise PortalError(f"parameter {key} must be text, not {value!r}")
    return value


_EVALUATE: dict[str, Callable[[str, Any], Any]] = {
    "limit": _whole(1),
    "tolerance_mm": _number(0.0),
    "confident": _number(0.0),
    "match_distance_mm": _number(0.0),
    "fit_temperature": _flag,
    "fit_masks": _flag,
    "fit_tips": _flag,
    "tip_risk": _share,
    "bins": _whole(2),
}
_PREDICT: dict[str, Callable[[str, Any], Any]] = {"calibration": _text, "tta": _flag}


def known_parameters(kind: str) -> frozenset[str]:
    """The parameter names a job of ``kind`` takes."""
    if kind == "train":
        return _train_keys()
    return frozenset(_EVALUATE if kind in ("evaluate", "gate") else _PREDICT)


def _unknown(kind: str, unknown: list[str], known: frozenset[str]) -> PortalError:
    problems = []
    for key in unknown:
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        problems.append(f"{key}: unknown" + (f" (did you mean {near[0]}?)" if near else ""))
    return PortalError(
        f"unknown parameters for a {kind} job: {', '.join(unknown)}; "
        f"the known ones are: {', '.join(sorted(known))}",
        problems=problems,
    )


def check_parameters(kind: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters, checked for ``kind``; returns a plain dict to store.

    Raises:
        PortalError: not an object, unknown keys (all named), or a bad value.
    """
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise PortalError("parameters must be a JSON object of name: value")
    known = known_parameters(kind)
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise _unknown(kind, unknown, known)
    values = dict(parameters)
    if kind == "train":
        _check_train(values)
    else:
        checks = _EVALUATE if kind in ("evaluate", "gate") else _PREDICT
        values = {key: checks[key](key, value) for key, value in values.items()}
    return values


def _check_train(values: dict[str, Any]) -> None:
    """Check where it runs; let TrainConfig judge the rest, as it will when the job runs."""
    from visionkit.exceptions import ModelError
    from visionkit.training.config import TrainConfig

    backend = values.get("backend", "local")
    if backend not in TRAIN_BACKENDS:
        raise PortalError(f"parameter backend must be one of {', '.join(TRAIN_BACKENDS)}, "
                          f"not {backend!r}")  # fmt: skip
    if "vm_size" in values:
        _text("vm_size", values["vm_size"])
    if "nodes" in values:
        _whole(1)("nodes", values["nodes"])
    training = {k: v for k, v in values.items() if k not in TRAIN_PLACEMENT}
    try:
        TrainConfig.from_dict({**training, "data_dir": ".", "out_dir": "job"}, source="parameters")
    except ModelError as exc:
        raise PortalError(str(exc)) from exc
