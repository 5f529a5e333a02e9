"""What each kind of job does in the worker: train, evaluate, or predict a batch.

Each runner takes the job and its :class:`~portal.jobs.context.JobContext`
and returns the job's ``result``. They call the library the way a user's
script would: the data set is copied out of the portal's file storage into
the job's scratch folder, the library runs there, and what the job made (a
model folder, an evaluation report) goes back into the storage under
``jobs/<pk>/``. A runner that fails or is cancelled removes what it stored.
"""

from __future__ import annotations

import importlib
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from portal.common.storage import remove_files, store_files
from portal.jobs.models import Kind
from portal.registry.mlflow_sync import tracker

if TYPE_CHECKING:
    from portal.jobs.context import JobContext
    from portal.jobs.models import Job

__all__ = ["RUNNERS", "HandedOff", "evaluate", "gate", "runner_for", "train"]

logger = logging.getLogger(__name__)

Runner = Callable[["Job", "JobContext"], dict[str, Any]]


class HandedOff(Exception):  # noqa: N818 - it is an outcome, not an error
    """Raised by a runner whose job goes on in other tasks (a batch's shards), which end it."""


#: The MLflow experiment of the portal's training runs.
EXPERIMENT = "visionkit-portal"


def _finite(values: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value) if math.isfinite(float(value)) else None
    return out


def _default_model_name() -> str:
    from portal.predictions.loader import production_version

    production = production_version()
    return production.name if production is not None else "root-unet"


def _local_device() -> str:
    from visionkit.training.device import resolve_device

    return str(resolve_device("auto"))


def train(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Train on the job's data set; store the best model and register it as a candidate."""
    from portal.datasets.services import download_dataset
    from portal.registry.services import register_from_job
    from visionkit.training.config import TrainConfig
    from visionkit.training.loop import StepInfo
    from visionkit.training.loop import train as train_model
    from visionkit.training.provenance import code_version, run_cost

    if job.parameters.get("backend") == "azureml":
        from portal.jobs.azureml import train_on_azureml

        return train_on_azureml(job, ctx)
    assert job.dataset is not None
    ctx.log(f"copying data set {job.dataset.version[:12]} ({job.dataset.n_images} images)")
    data = download_dataset(dataset=job.dataset, target=ctx.work_dir / "data")
    params = {k: v for k, v in job.parameters.items() if k not in ("backend", "vm_size", "nodes")}
    fine_tune_from = params.pop("fine_tune_from", None)
    if fine_tune_from is not None:
        from portal.predictions.loader import local_folder
        from portal.registry.models import ModelVersion

        start = ModelVersion.objects.get(pk=fine_tune_from)
        params["init_from"] = str(local_folder(start))
        params.setdefault("name", start.name)
        params.setdefault("architecture", start.architecture)
        for key, source in (("scale", "scale"), ("normalize", "normalize"),
                            ("arch_params", "params"), ("patch_size", "patch_size")):  # fmt: skip
            if source in start.config:
                params.setdefault(key, start.config[source])
        ctx.log(f"fine-tuning from {start.name} v{start.version}")
    params.setdefault("name", _default_model_name())
    params.setdefault("version", f"job{job.pk}")
    params.setdefault("num_workers", 0)
    config = TrainConfig.from_dict(
        {**params, "data_dir": str(data), "out_dir": str(ctx.work_dir / "run"),
         "track": bool(settings.VISIONKIT_JOB_TRACK), "experiment": EXPERIMENT},
        source=f"job {job.pk}",
    )  # fmt: skip

    def on_step(step: StepInfo) -> None:
        total = max(1, config.epochs * step.steps_per_epoch)
        ctx.progress(min(0.99, (step.epoch * step.steps_per_epoch + step.step) / total))
        ctx.check_cancelled()

    started = time.perf_counter()
    result = train_model(config, progress=False, on_step=on_step, tracker=tracker(EXPERIMENT),
                         command=f"portal job {job.pk}")  # fmt: skip
    cost = run_cost(
        config.device if config.device != "auto" else _local_device(), time.perf_counter() - started
    )
    ctx.log(
        f"trained on {cost['compute']} for {cost['duration_s']:.0f} s, estimated cost "
        f"${cost['estimated_usd'] or 0:.4f}"
    )
    folder = result.best_dir or result.last_dir
    if folder is None:
        raise RuntimeError("training ended without a model (no epoch finished); train longer")
    prefix = f"jobs/{job.pk}/model"
    stored = store_files(Path(folder), prefix)
    answer: dict[str, Any] = {
        "model_folder": prefix,
        "mlflow_run_id": result.run_id or "",
        "data_version": result.data_version,
        "code_version": code_version(),
        "metrics": _finite(dict(result.metrics)),
        "best_epoch": result.best_epoch,
        "best_metric": result.best_metric,
        "epochs_done": result.epochs_done,
        "stopped_early": result.stopped_early,
        "cost": cost,
        "planned_cost": (job.result or {}).get("planned_cost"),
    }
    job.result = answer
    try:
        version = register_from_job(job=job, user=job.created_by)
    except BaseException:
        remove_files(stored)
        raise
    from portal.monitoring.drift import reference_from_folder

    version.reference_stats = reference_from_folder(data)
    version.save(update_fields=["reference_stats"])
    ctx.log(f"registered {version.name} v{version.version} as a candidate")
    answer["model_version"] = version.pk
    _gate_after_training(version, job, ctx)
    return answer


def _gate_after_training(version: Any, job: Job, ctx: JobContext) -> None:
    """Queue the candidate's gate when a held-out data set exists (else say how to get one)."""
    from portal.common.errors import PortalError
    from portal.registry.gates import submit_gate

    try:
        gate = submit_gate(candidate=version, user=job.created_by, trigger="pipeline",
                           reason=f"gate the candidate of training job {job.pk}")  # fmt: skip
    except PortalError as exc:
        ctx.log(f"not gated: {exc}")
        return
    ctx.log(f"queued gate job {gate.pk}")
    job.result["gate_job"] = gate.pk


def _run_evaluation(job: Job, ctx: JobContext, version: Any, data: Path, out: Path) -> Any:
    """Score ``version`` on the plates in ``data``; the report, its files in ``out``."""
    from portal.predictions.loader import local_folder
    from visionkit.evaluation.evaluate import evaluate as evaluate_model

    assert job.dataset is not None
    model = local_folder(version)
    ctx.log(f"evaluating {version.name} v{version.version} on {job.dataset.n_images} plates")

    def on_plate(done: int, total: int) -> None:
        ctx.progress(min(0.99, done / max(1, total)), f"plate {done}/{total}")
        ctx.check_cancelled()

    params = {k: v for k, v in job.parameters.items() if k != "fine_tune_from"}
    return evaluate_model(model, data, out_dir=out, tracker=tracker("evaluation"),
                          progress=False, on_plate=on_plate, **params)  # fmt: skip


def _keep_evaluation(job: Job, version: Any, report: Any) -> Any:
    from portal.registry.models import Evaluation

    assert job.dataset is not None
    return Evaluation.objects.create(
        model_version=version, dataset=job.dataset, job=job,
        metrics=_finite(report.metrics()),
    )  # fmt: skip


def evaluate(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Score the job's model on its data set; store the report under ``jobs/<pk>/report``."""
    from portal.datasets.services import download_dataset

    assert job.dataset is not None
    assert job.model_version is not None
    data = download_dataset(dataset=job.dataset, target=ctx.work_dir / "data")
    out = ctx.work_dir / "report"
    report = _run_evaluation(job, ctx, job.model_version, data, out)
    prefix = f"jobs/{job.pk}/report"
    stored = store_files(out, prefix)
    full = report.to_dict()
    try:
        _keep_evaluation(job, job.model_version, report)
    except BaseException:
        remove_files(stored)
        raise
    return {
        "report_folder": prefix,
        "files": stored,
        "metrics": _finite(report.metrics()),
        "segmentation": full.get("segmentation"),
        "landmarks": full.get("landmarks"),
        "calibration": full.get("calibration"),
        "targets": full.get("targets"),
        "data": full.get("data"),
        "mlflow_run_id": report.mlflow_run_id or "",
    }


def gate(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Evaluate the candidate (and production, if not yet on this set) and compare them.

    A candidate that passes moves to staging when ``VISIONKIT_GATE_AUTO_STAGING``
    is on; approvers are told either way, with the comparison.
    """
    from portal.datasets.services import download_dataset
    from portal.registry import gates
    from portal.registry.models import Evaluation, ModelVersion, Stage

    assert job.dataset is not None
    assert job.model_version is not None
    candidate = job.model_version
    data = download_dataset(dataset=job.dataset, target=ctx.work_dir / "data")
    mine = _keep_evaluation(job, candidate, _run_evaluation(
        job, ctx, candidate, data, ctx.work_dir / "candidate"))  # fmt: skip
    production = ModelVersion.objects.filter(name=candidate.name, stage=Stage.PRODUCTION).first()
    theirs = None
    if production is not None and production.pk != candidate.pk:
        theirs = Evaluation.objects.filter(model_version=production, dataset=job.dataset).first()
        if theirs is None:
            theirs = _keep_evaluation(job, production, _run_evaluation(
                job, ctx, production, data, ctx.work_dir / "production"))  # fmt: skip
    check = gates.record_gate(
        candidate=candidate, baseline=production if theirs is not None else None,
        dataset=job.dataset, candidate_metrics=mine.metrics,
        baseline_metrics=theirs.metrics if theirs is not None else None, job=job,
    )  # fmt: skip
    ctx.log(f"gate {'passed' if check.passed else 'failed'}: " + "; ".join(
        f"{row['metric']} {row['candidate']} vs {row['production']} ({row['why']})"
        for row in check.comparison))  # fmt: skip
    staged = False
    if check.passed and settings.VISIONKIT_GATE_AUTO_STAGING and candidate.stage == "candidate":
        from portal.registry.services import promote

        promote(model_version=candidate, stage="staging", user=None,
                reason=f"gate passed (gate job {job.pk})")  # fmt: skip
        staged = True
        ctx.log("moved to staging")
    from portal.monitoring.notify import candidate_gated

    candidate_gated(check)
    return {"gate": check.pk, "passed": check.passed, "comparison": check.comparison,
            "staged": staged, "baseline": production.pk if production else None}  # fmt: skip


def _predict(job: Job, ctx: JobContext) -> dict[str, Any]:
    """Split the batch into shards for the workers (raises :class:`HandedOff`)."""
    run_batch = importlib.import_module("portal.predictions.batch").run_batch
    result: dict[str, Any] = run_batch(job, ctx)
    return result


#: Kind -> its runner.
RUNNERS: dict[str, Runner] = {
    Kind.TRAIN: train, Kind.EVALUATE: evaluate, Kind.PREDICT: _predict, Kind.GATE: gate,
}  # fmt: skip


def runner_for(kind: str) -> Runner:
    """The runner of ``kind``."""
    return RUNNERS[kind]
