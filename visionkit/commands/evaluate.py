"""``visionkit evaluate --model M --data DIR``: score a model on full labelled plates.

Runs :func:`visionkit.evaluation.evaluate`, prints the summary table with
PASS/FAIL against the targets (or the whole report as JSON with ``--json``)
and leaves ``report.json``, ``summary.txt`` and the plots in ``--out``. The
exit code is 0 whether or not the targets are met: an evaluation that ran is
a success; read ``passed`` in the report to gate a release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from visionkit.cli import plugin_manager
from visionkit.commands._options import predict_settings, segment_options

if TYPE_CHECKING:
    from visionkit.evaluation.report import EvaluationReport

__all__ = ["evaluate"]

_DIR = click.Path(file_okay=False, path_type=Path)


@click.command()
@click.option(
    "--model",
    "model",
    type=_DIR,
    default=None,
    help="Model folder (default: the installed default model).",
)
@click.option(
    "--data",
    "data",
    type=_DIR,
    required=True,
    help="Labelled plates in the Hades mask convention (landmarks JSON optional).",
)
@click.option(
    "--out",
    "out_dir",
    type=_DIR,
    default=Path("evaluation"),
    show_default=True,
    help="Folder for report.json, summary.txt and the plots.",
)
@segment_options
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Evaluate the first N plates."
)
@click.option(
    "--fit-temperature",
    is_flag=True,
    help="Fit temperature scaling; write a calibrated model copy to OUT/calibrated_model.",
)
@click.option(
    "--fit-masks",
    is_flag=True,
    help=(
        "Fit each class's mask threshold and the model's map offset (held-out plates!); "
        "written to OUT/calibrated_model."
    ),
)
@click.option(
    "--fit-tips",
    is_flag=True,
    help=(
        "Fit how strongly each doubt lowers a tip's confidence (held-out plates!); "
        "written to OUT/calibrated_model."
    ),
)
@click.option(
    "--tip-risk",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=None,
    help=(
        "With --fit-tips: lower the fitted confidences until at most this share of the "
        "confident tips (>= 0.8) are off on these plates [default: calibrated chances]."
    ),
)
@click.option(
    "--check",
    is_flag=True,
    help="Exit with status 1 when a target FAILs (a gate for CI or retraining).",
)
@click.option("--no-track", is_flag=True, help="Do not log to MLflow.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.pass_context
def evaluate(
    ctx: click.Context,
    model: Path | None,
    data: Path,
    out_dir: Path,
    scale: float | None,
    tta: bool,
    all_roots: bool,
    refine: int,
    skip_empty: bool,
    limit: int | None,
    backend: str | None,
    fit_temperature: bool,
    fit_masks: bool,
    fit_tips: bool,
    tip_risk: float | None,
    check: bool,
    no_track: bool,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Score a model on the full labelled plates in --data.

    Per-class IoU/F1/precision/recall over all pixels, root-tip and start
    errors (px and mm), the share of tips within 1 mm, root-length sMAPE,
    the root probabilities' calibration error, and PASS/FAIL against the
    targets. Logged to MLflow (experiment "evaluation") unless --no-track.
    """
    # checked (a usage error) before the evaluation stack is even imported
    if tip_risk is not None and not fit_tips:
        raise click.UsageError("--tip-risk needs --fit-tips")
    settings = predict_settings(
        backend=backend,
        scale=scale,
        tta=tta,
        refine=refine,
        all_roots=all_roots,
        skip_empty=skip_empty,
    )
    pm = plugin_manager(ctx)
    from visionkit.evaluation import evaluate as run_evaluation
    from visionkit.tracking import Tracker

    report = run_evaluation(
        model,
        data,
        out_dir=out_dir,
        settings=settings,
        tracker=Tracker() if no_track else None,
        limit=limit,
        fit_temperature=fit_temperature,
        fit_masks=fit_masks,
        fit_tips=fit_tips,
        tip_risk=tip_risk,
        progress=not no_progress and not as_json,
        pm=pm,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        _exit_on_failure(report, check)
        return
    click.echo(report.summary_table())
    if report.temperature is not None:
        copy = report.temperature.get("model_copy")
        where = f"; calibrated model: {copy}" if copy else ""
        click.echo(
            f"\nfitted temperature {report.temperature['fitted']:.4f} "
            f"(model's {report.temperature['model']:.4g}){where}"
        )
    if report.mask_thresholds is not None:
        fit = report.mask_thresholds
        second = " (second pass, under the fitted map offset)" if fit.get("passes") == 2 else ""
        click.echo(f"\nmask thresholds (F1 at the model's threshold -> fitted){second}:")
        for name, value in fit["fitted"].items():
            before = fit["f1_at_model"].get(name)
            was = "n/a" if before is None else f"{before:.4f}"
            click.echo(
                f"  {name:<8} {fit['model'][name]:+.2f} -> {value:+.2f}   "
                f"F1 {was} -> {fit['f1_fitted'][name]:.4f}"
            )
        offset = fit.get("map_offset")
        if offset is not None:
            if offset["residual"] is None:
                click.echo(
                    f"  map offset {offset['model']} kept: too few plates correlated "
                    f"({offset['plates_used']})"
                )
            else:
                click.echo(
                    f"  map offset {offset['model']} -> {offset['fitted']} working px "
                    f"(median residual {offset['residual']} over {offset['plates_used']} plates)"
                )
        if fit.get("model_copy"):
            click.echo(f"calibrated model: {fit['model_copy']}")
    if report.tip_calibration is not None:
        _echo_tip_fit(report.tip_calibration)
    click.echo(f"\nreport: {out_dir / 'report.json'}")
    if report.mlflow_run_id:
        click.echo(f"MLflow run: {report.mlflow_run_id}")
    _exit_on_failure(report, check)


def _echo_tip_fit(fit: dict[str, Any]) -> None:
    """Print the fitted doubt strengths and what they change on the fitting plates."""
    if "fitted" not in fit:
        click.echo(f"\ntip confidences not fitted: {fit.get('error')}")
        return
    fitted = fit["fitted"]
    on = fitted["fitted_on"]
    shift = on.get("intercept_shift") or 0.0
    lowered = f" (lowered by {-shift:.3f} for a risk of {on['risk']})" if shift else ""
    click.echo(
        f"\ntip doubts fitted on {on['tips']} tips ({on['tips_off']} beyond 1 mm): "
        f"intercept {fitted['intercept']:+.3f}{lowered}"
    )
    for name, weight in sorted(fitted["weights"].items()):
        click.echo(f"  {name:<15} strength {weight:.3f}")
    for label in ("raw", "calibrated"):
        part = on[label]
        click.echo(
            f"  {label:<11} confident tips {part['confident_tips']}, "
            f"{part['confident_off']} of them beyond 1 mm, right and confident "
            f"{100 * part['confident_right_share']:.1f} % of the tips"
        )
    if fit.get("model_copy"):
        click.echo(f"calibrated model: {fit['model_copy']}")


def _exit_on_failure(report: EvaluationReport, check: bool) -> None:
    """With ``--check``, exit 1 naming the failed targets."""
    if not check or report.passed:
        return
    failed = [r.target.name for r in report.target_results() if r.status == "FAIL"]
    click.echo(f"check failed: {', '.join(failed)}", err=True)
    raise SystemExit(1)
