"""``visionkit realism``: compare a synthetic plate's statistics with a real plate's."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

__all__ = ["realism"]


def _synthetic_extras(path: Path) -> tuple[Any, float | None]:
    """The root mask and px/mm written beside a synthetic plate, when present."""
    from visionkit.imageio import read_mask
    from visionkit.synth.naming import MASK_SUFFIX
    from visionkit.synth.writer import LANDMARKS_SUFFIX

    stem = path.with_suffix("")
    mask_file = stem.with_name(stem.name + MASK_SUFFIX.format("root"))
    landmarks = stem.with_name(stem.name + LANDMARKS_SUFFIX)
    mask = read_mask(mask_file) if mask_file.is_file() else None
    ppm = None
    if landmarks.is_file():
        ppm = 1.0 / float(json.loads(landmarks.read_text(encoding="utf-8"))["dish"]["mm_per_px"])
    return mask, ppm


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


@click.command()
@click.option(
    "--synthetic",
    "synthetic_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A synthetic plate PNG (its root mask and landmarks are read from beside it).",
)
@click.option(
    "--real",
    "real_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A real plate image (full frame or dish crop).",
)
@click.option(
    "--real-px-per-mm",
    type=click.FloatRange(min=0.1),
    default=None,
    help="The real plate's resolution (default: guessed from the agar's size).",
)
@click.option(
    "--figure",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a side-by-side picture: real window | synthetic window.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def realism(
    ctx: click.Context,
    synthetic_path: Path,
    real_path: Path,
    real_px_per_mm: float | None,
    figure: Path | None,
    as_json: bool,
) -> None:
    """Compare a synthetic plate with a real one; exit 1 if a statistic is out of tolerance."""
    from visionkit.imageio import read_image, write_image
    from visionkit.synth.realism import compare_stats, comparison_figure, measure_plate

    real, _ = read_image(real_path)
    synthetic, _ = read_image(synthetic_path)
    if real.ndim != 2 or synthetic.ndim != 2:
        raise click.ClickException("realism needs grayscale plates; convert colour images first")
    mask, ppm = _synthetic_extras(synthetic_path)
    real_stats = measure_plate(real, px_per_mm=real_px_per_mm)
    synth_stats = measure_plate(synthetic, mask, px_per_mm=ppm)
    rows = compare_stats(real_stats, synth_stats)
    if figure is not None:
        picture = comparison_figure(
            real,
            synthetic,
            real_px_per_mm=real_px_per_mm,
            synthetic_px_per_mm=ppm,
            synthetic_root_mask=mask,
        )
        write_image(figure, picture)
    if as_json:
        payload = {
            "real": real_stats.to_dict(),
            "synthetic": synth_stats.to_dict(),
            "passed": all(r.passed for r in rows),
            "checks": [
                {
                    "name": r.name,
                    "real": None if math.isnan(r.real) else r.real,
                    "synthetic": None if math.isnan(r.synthetic) else r.synthetic,
                    "tolerance": r.tolerance.describe(),
                    "passed": r.passed,
                }
                for r in rows
            ],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(f"{'statistic':<36} {'real':>9} {'synthetic':>10} {'tolerance':>10}  result")
        for r in rows:
            label = f"{r.tolerance.label} [{r.tolerance.unit}]"
            click.echo(
                f"{label:<36} {_fmt(r.real):>9} {_fmt(r.synthetic):>10} "
                f"{r.tolerance.describe():>10}  {'PASS' if r.passed else 'FAIL'}"
            )
        click.echo(
            f"roots found: real {real_stats.roots_found} ({real_stats.method}), "
            f"synthetic {synth_stats.roots_found} ({synth_stats.method})"
        )
    if not all(r.passed for r in rows):
        ctx.exit(1)
