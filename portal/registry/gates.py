"""The gate between candidate and staging: at least as good as production on the same held-out set.

A gate job (kind ``gate``) evaluates the candidate with :mod:`visionkit.evaluation`
on a held-out data set version and compares it, metric by metric, with the
production version's evaluation on *the same* data set version (run in the
same job when production has none there yet). The held-out set is the one
production was last gated or evaluated on when it is still of the held-out
name (``VISIONKIT_HOLDOUT_DATASET``), else that name's latest version, so two
candidates in a row are judged on the same plates.

The rules come from ``VISIONKIT_GATE_METRICS`` (``metric:higher|lower:tolerance``).
A metric either side lacks fails the gate: a number not measured is not a
number matched. The :class:`~portal.registry.models.GateCheck` row keeps the
whole comparison; :func:`allows_staging` is what ``promote`` asks.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.registry.models import Evaluation, GateCheck, ModelVersion, Stage

if TYPE_CHECKING:
    from portal.datasets.models import DatasetVersion
    from portal.jobs.models import Job

__all__ = [
    "Rule",
    "allows_staging",
    "compare",
    "holdout_dataset",
    "latest_gate",
    "record_gate",
    "rules",
    "submit_gate",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """One metric a candidate must match: which way is better, and by how much it may lose."""

    metric: str
    higher_is_better: bool
    tolerance: float

    def check(self, candidate: float | None, baseline: float | None) -> tuple[bool, str]:
        """Whether ``candidate`` passes against ``baseline``, and a sentence saying why."""
        if candidate is None or baseline is None:
            side = "the candidate" if candidate is None else "production"
            return False, f"not measured for {side}"
        if self.higher_is_better:
            floor = baseline - self.tolerance
            return candidate >= floor, f"needs >= {floor:.4g}"
        ceiling = baseline + self.tolerance
        return candidate <= ceiling, f"needs <= {ceiling:.4g}"


def rules(text: str | None = None) -> list[Rule]:
    """The gate's rules from ``VISIONKIT_GATE_METRICS`` (or ``text``).

    Raises:
        ImproperlyConfigured: an entry is not ``metric:higher|lower:tolerance``.
    """
    text = settings.VISIONKIT_GATE_METRICS if text is None else text
    found: list[Rule] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            metric, direction, tolerance = entry.split(":")
            value = float(tolerance)
        except ValueError:
            value = math.nan
            metric = direction = ""
        if not metric or direction not in ("higher", "lower") or not value >= 0:
            raise ImproperlyConfigured(
                f"VISIONKIT_GATE_METRICS entry {entry!r} is not metric:higher|lower:tolerance "
                "(e.g. root_f1:higher:0.01)"
            )
        found.append(Rule(metric, direction == "higher", value))
    return found


def _number(values: dict[str, Any], key: str) -> float | None:
    value = values.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def compare(
    candidate: dict[str, Any], baseline: dict[str, Any] | None
) -> tuple[bool, list[dict[str, Any]]]:
    """Every rule applied to two metric dicts; ``baseline=None``: nothing to beat (passes).

    Returns ``(passed, rows)``, one row per rule with both values.
    """
    rows: list[dict[str, Any]] = []
    for rule in rules():
        mine = _number(candidate, rule.metric)
        if baseline is None:
            ok, why = mine is not None, "no production version to compare with"
            theirs = None
        else:
            theirs = _number(baseline, rule.metric)
            ok, why = rule.check(mine, theirs)
        rows.append({
            "metric": rule.metric,
            "better": "higher" if rule.higher_is_better else "lower",
            "tolerance": rule.tolerance,
            "candidate": mine,
            "production": theirs,
            "passed": ok,
            "why": why,
        })  # fmt: skip
    return all(row["passed"] for row in rows), rows


def _production(name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name, stage=Stage.PRODUCTION).first()


def holdout_dataset(production: ModelVersion | None) -> DatasetVersion | None:
    """The held-out data set version a candidate of ``production``'s name is judged on."""
    from portal.datasets.models import DatasetVersion

    name = settings.VISIONKIT_HOLDOUT_DATASET
    if production is not None:
        used = (
            Evaluation.objects.filter(model_version=production, dataset__name=name)
            .select_related("dataset")
            .first()
        )
        if used is not None:
            return used.dataset
    return DatasetVersion.objects.filter(name=name).order_by("-created_at", "-id").first()


def submit_gate(
    *, candidate: ModelVersion, user: Any, trigger: str = "manual", reason: str = ""
) -> Job:
    """Queue the gate job of ``candidate``.

    Raises:
        PortalError: no held-out data set is stored yet.
    """
    from portal.common.errors import PortalError
    from portal.jobs.services import submit_job

    dataset = holdout_dataset(_production(candidate.name))
    if dataset is None:
        raise PortalError(
            f"no held-out data set: upload one named {settings.VISIONKIT_HOLDOUT_DATASET!r} "
            "(VISIONKIT_HOLDOUT_DATASET) to gate candidates on"
        )
    return submit_job(
        kind="gate", user=user, dataset=dataset, model_version=candidate,
        trigger=trigger, reason=reason or f"gate {candidate.name} v{candidate.version}",
    )  # fmt: skip


def record_gate(
    *,
    candidate: ModelVersion,
    baseline: ModelVersion | None,
    dataset: DatasetVersion,
    candidate_metrics: dict[str, Any],
    baseline_metrics: dict[str, Any] | None,
    job: Job | None,
) -> GateCheck:
    """Compare and keep the comparison with the candidate."""
    passed, rows = compare(candidate_metrics, baseline_metrics)
    check = GateCheck.objects.create(
        candidate=candidate, baseline=baseline, dataset=dataset, passed=passed,
        comparison=rows, job=job,
    )  # fmt: skip
    logger.info("gate of %s v%s against %s: %s", candidate.name, candidate.version,
                f"v{baseline.version}" if baseline else "nothing",
                "passed" if passed else "failed")  # fmt: skip
    return check


def latest_gate(version: ModelVersion) -> GateCheck | None:
    """The version's most recent gate check."""
    return version.gate_checks.select_related("baseline", "dataset").first()


def allows_staging(version: ModelVersion) -> tuple[bool, str]:
    """Whether ``version`` may move to staging, and why not.

    Yes when its latest gate passed against the version in production now;
    also when no version of its name has ever been in production (there is
    nothing to be at least as good as: the first model of a name).
    """
    production = _production(version.name)
    ever = version.stage_changes.model.objects.filter(
        model_version__name=version.name, to_stage=Stage.PRODUCTION
    ).exists()
    if production is None and not ever:
        return True, "first version of its name: nothing in production to compare with"
    check = latest_gate(version)
    if check is None:
        return False, (
            f"{version.name} v{version.version} has not been gated; run its gate job "
            "(POST /api/models/{id}/gate/) against the production version first"
        )
    if production is not None and check.baseline_id != production.pk:
        return False, (
            f"its gate compared it with v{check.baseline.version if check.baseline else '-'}, "
            f"but v{production.version} is in production now; gate it again"
        )
    if not check.passed:
        failed = ", ".join(row["metric"] for row in check.comparison if not row["passed"])
        return False, f"its gate failed on {failed}; see the comparison on the model's page"
    return True, "gate passed"
