"""``visionkit predict IMAGES... --out DIR``: segment plates and find root tips.

IMAGES may be image files, folders, glob patterns, or any URI a source
plugin opens (camera index, video, URL). For each image it writes, through
the output adapters (``json`` by default), ``DIR/<stem>.json`` with mask PNGs
beside it, plus ``DIR/<stem>_overlay.png`` unless ``--no-overlay``, and
prints one summary line. A bad input (not an image, too large, unreadable)
prints an error naming it and the others go on; the exit code is 1 at the
end if anything failed. An image with no dish or no plants is not an error:
its prediction says so in its warnings and lists plants with null tips.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from visionkit.commands._options import BACKENDS, mask_options

if TYPE_CHECKING:
    from visionkit.pipeline import PipelineResult

__all__ = ["predict"]

logger = logging.getLogger(__name__)


def _summary(result: PipelineResult) -> str:
    prediction = result.prediction
    assert prediction is not None
    tips = sum(p.tip is not None for p in prediction.plants)
    image_conf = prediction.confidence.get("image", 0.0)
    line = (
        f"{prediction.image}: {len(prediction.plants)} plants, {tips} tips, "
        f"image confidence {image_conf:.2f}, {prediction.timing_ms.get('total', 0.0):.0f} ms"
    )
    if prediction.warnings:
        count = len(prediction.warnings)
        line += f" ({count} warning{'s' if count > 1 else ''}: {prediction.warnings[0]})"
    return line


@click.command()
@click.argument("images", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("predictions"),
    show_default=True,
    help="Folder for the JSON, masks, overlays and other adapter output.",
)
@click.option(
    "--model",
    "model",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Model folder (default: the installed default model).",
)
@click.option(
    "--adapter",
    "adapters",
    default="json",
    show_default=True,
    help="Output adapters, comma separated (e.g. json,csv,coco).",
)
@click.option(
    "--calibration",
    default=None,
    metavar="FILE_OR_PRESET",
    help="Robot calibration: a YAML/JSON file or a preset name such as ot2.",
)
@click.option("--tta/--no-tta", default=False, help="Test-time augmentation (horizontal flip).")
@mask_options
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="onnx",
    show_default=True,
    help="Inference runtime.",
)
@click.option("--scale", type=float, default=None, help="Working scale (default: the model's).")
@click.option("--threads", type=int, default=None, help="CPU threads for inference.")
@click.option(
    "--expected-plants",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Seedlings per dish.",
)
@click.option("--overlay/--no-overlay", default=True, show_default=True, help="Write overlays.")
@click.pass_context
def predict(
    ctx: click.Context,
    images: tuple[str, ...],
    out_dir: Path,
    model: Path | None,
    adapters: str,
    calibration: str | None,
    tta: bool,
    all_roots: bool,
    refine: int | None,
    backend: str,
    scale: float | None,
    threads: int | None,
    expected_plants: int,
    overlay: bool,
) -> None:
    """Segment plate IMAGES and find each plant's primary-root tip.

    IMAGES are files, folders, glob patterns or source URIs.
    """
    from visionkit.cli import plugin_manager
    from visionkit.exceptions import VisionkitError
    from visionkit.overlay import write_overlay
    from visionkit.pipeline import Pipeline, Predictor, make_adapters
    from visionkit.plugins import open_source

    pm = plugin_manager(ctx)
    predictor = Predictor(
        model,
        calibration=calibration,
        tta=tta,
        refine=refine,
        plant_roots_only=not all_roots,
        expected_plants=expected_plants,
        backend=backend,
        scale=scale,
        threads=threads,
        pm=pm,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs, owned = make_adapters(adapters, out_dir, pm)
    failures = 0
    done = 0
    try:
        for uri in images:
            try:
                source: Any = open_source(uri, pm)
            except VisionkitError as exc:
                click.echo(f"error: {uri}: {exc}", err=True)
                failures += 1
                continue
            with Pipeline(source, predictor, outputs, pm=pm) as pipeline:
                for result in pipeline:
                    if result.error is not None or result.prediction is None:
                        click.echo(f"error: {result.source_id}: {result.error}", err=True)
                        failures += 1
                        continue
                    done += 1
                    if overlay and result.frame is not None:
                        target = out_dir / f"{result.prediction.stem}_overlay.png"
                        write_overlay(target, result.frame.image, result.prediction)
                    click.echo(_summary(result))
    finally:
        for adapter in owned:
            adapter.close()
    click.echo(f"{done} image(s) predicted, {failures} failed; output in {out_dir}")
    if failures:
        ctx.exit(1)
