"""``visionkit predict IMAGES... --out DIR``: segment plates and find root tips.

IMAGES may be image files, folders, glob patterns, or any URI a source
plugin opens (camera index, video, URL). For each image it writes, through
the output adapters (``json`` by default), ``DIR/<stem>.json`` with mask PNGs
beside it, plus ``DIR/<stem>_overlay.png`` (longest side 2048 px, or
``--overlay-size full``) unless ``--no-overlay``, and prints one summary line.
Each frame's files are written in a background thread while the next frame
is read and segmented; every file is written under a temporary name and
renamed, so an interrupted run leaves no half-written file.

Everything that can be checked without the model is checked first: option
ranges, adapter names, the calibration, and every input is opened (a
missing path says "no such file or folder" at once). A bad input (missing,
not an image, too large, unreadable) prints one ``error:`` line naming it
and the others go on; the exit code is 1 at the end if anything failed. An
image with no dish or no plants is not an error: its prediction says so in
its warnings and lists plants with null tips.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from visionkit.cli import plugin_manager
from visionkit.commands._options import default_model_option, predict_settings, segment_options

if TYPE_CHECKING:
    import pluggy

    from visionkit.adapters.base import Adapter
    from visionkit.calibration import Calibration
    from visionkit.pipeline import PipelineResult, Predictor
    from visionkit.sources.base import Source

__all__ = ["predict"]

logger = logging.getLogger(__name__)


def _error_line(where: str, error: BaseException | str) -> str:
    """``error: <where>: <why>``, naming ``where`` once even when the error already does."""
    text = str(error)
    return f"error: {text}" if where in text else f"error: {where}: {text}"


def _summary(result: PipelineResult) -> str:
    prediction = result.prediction
    assert prediction is not None
    plants = prediction.plants
    image_conf = prediction.confidence.get("image", 0.0)
    if any(p.tip is not None or p.start is not None for p in plants):
        what = f"{len(plants)} plants, {sum(p.tip is not None for p in plants)} tips"
    else:  # the contract still lists the expected plants, each with null landmarks
        what = "no plants found"
    line = (
        f"{prediction.image}: {what}, image confidence {image_conf:.2f}, "
        f"{prediction.timing_ms.get('total', 0.0):.0f} ms"
    )
    if prediction.warnings:
        count = len(prediction.warnings)
        line += f" ({count} warning{'s' if count > 1 else ''}: {prediction.warnings[0]})"
    return line


def _parse_adapter_options(
    given: tuple[str, ...], adapters: tuple[str, ...]
) -> dict[str, dict[str, str]]:
    """``ros.port=9091`` ... as ``{"ros": {"port": "9091"}}``; each adapter checks its values."""
    options: dict[str, dict[str, str]] = {}
    for item in given:
        target, sep, value = item.partition("=")
        name, dot, key = target.partition(".")
        if not sep or not dot or not name or not key:
            raise click.BadParameter(f"{item!r}: give NAME.KEY=VALUE, e.g. ros.port=9091",
                                     param_hint="--adapter-option")  # fmt: skip
        if name not in adapters:
            raise click.BadParameter(
                f"{item!r}: {name} is not among --adapter {','.join(adapters)}",
                param_hint="--adapter-option",
            )
        options.setdefault(name, {})[key] = value
    return options


def _adapter_names(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """``json,csv`` as names, each checked against this invocation's plugins."""
    from visionkit.exceptions import UnknownNameError
    from visionkit.plugins import get_adapter_spec

    names = tuple(name.strip() for name in value.split(",") if name.strip())
    if not names:
        raise click.BadParameter("name at least one adapter, e.g. json", ctx, param)
    pm = plugin_manager(ctx)
    for name in names:
        try:
            get_adapter_spec(name, pm)
        except UnknownNameError as exc:
            raise click.BadParameter(str(exc), ctx, param) from exc
    return names


def _calibration(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> Calibration | None:
    """The calibration file or preset, read now so a wrong name fails before the model loads."""
    if value is None:
        return None
    from visionkit.calibration import Calibration
    from visionkit.exceptions import VisionkitError

    try:
        return Calibration.resolve(value)
    except VisionkitError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


def _overlay_side(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """``screen`` as 2048, ``full`` as 0 (the input's size), else a side of 64 pixels or more."""
    from visionkit.overlay import SCREEN_SIDE

    text = value.strip().lower()
    if text == "screen":
        return SCREEN_SIDE
    if text == "full":
        return 0
    try:
        side = int(text)
    except ValueError:
        side = -1
    if side < 64:
        raise click.BadParameter(
            f"{value!r}: give screen ({SCREEN_SIDE} px), full, or a side of 64 pixels or more",
            ctx,
            param,
        )
    return side


def _open_inputs(
    images: tuple[str, ...], pm: pluggy.PluginManager, *, recursive: bool
) -> tuple[list[Source], int]:
    """Open every input before the model loads; print one error for each that cannot be.

    Returns:
        ``(the opened sources, how many inputs failed)``.
    """
    from visionkit.exceptions import VisionkitError
    from visionkit.plugins import open_source

    opened: list[Source] = []
    failures = 0
    for uri in images:
        folder = recursive and Path(uri).expanduser().is_dir()
        options: dict[str, Any] = {"recursive": True} if folder else {}
        try:
            opened.append(open_source(uri, pm, **options))
        except VisionkitError as exc:
            click.echo(_error_line(uri, exc), err=True)
            failures += 1
    return opened, failures


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
@default_model_option
@click.option(
    "--adapter",
    "adapters",
    default="json",
    show_default=True,
    callback=_adapter_names,
    help="Output adapters, comma separated (e.g. json,csv,coco; see `visionkit adapters`).",
)
@click.option(
    "--adapter-option",
    "adapter_options",
    multiple=True,
    metavar="NAME.KEY=VALUE",
    help="An option of one adapter, e.g. ros.host=192.168.1.20 or mqtt.qos=2 (repeatable).",
)
@click.option(
    "--calibration",
    default=None,
    metavar="FILE_OR_PRESET",
    callback=_calibration,
    help="Robot calibration: a YAML/JSON file or a preset name such as ot2.",
)
@segment_options
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="CPU threads for inference."
)
@click.option(
    "--expected-plants",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Seedlings per dish.",
)
@click.option(
    "-r",
    "--recursive",
    is_flag=True,
    help="Also read the images in sub-folders of a folder given as IMAGES.",
)
@click.option("--overlay/--no-overlay", default=True, show_default=True, help="Write overlays.")
@click.option(
    "--overlay-size",
    "overlay_side",
    default="screen",
    show_default=True,
    callback=_overlay_side,
    metavar="screen|full|PIXELS",
    help="The overlay's longer side: screen (2048 px), full (the input's size) or pixels.",
)
@click.pass_context
def predict(
    ctx: click.Context,
    images: tuple[str, ...],
    out_dir: Path,
    model: Path | None,
    adapters: tuple[str, ...],
    adapter_options: tuple[str, ...],
    calibration: Calibration | None,
    scale: float | None,
    tta: bool,
    all_roots: bool,
    refine: int,
    backend: str | None,
    threads: int | None,
    expected_plants: int,
    recursive: bool,
    overlay: bool,
    overlay_side: int,
    skip_empty: bool,
) -> None:
    """Segment plate IMAGES and find each plant's primary-root tip.

    IMAGES are files, folders, glob patterns (quote them: 'plates/*.png') or
    source URIs such as a camera index or a URL.
    """
    options = _parse_adapter_options(adapter_options, adapters)
    settings = predict_settings(
        backend=backend,
        scale=scale,
        tta=tta,
        refine=refine,
        all_roots=all_roots,
        threads=threads,
        expected_plants=expected_plants,
        skip_empty=skip_empty,
    )
    pm = plugin_manager(ctx)
    pending, failures = _open_inputs(images, pm, recursive=recursive)
    done = 0
    try:
        if pending:
            from visionkit.overlay import OverlayWriter
            from visionkit.pipeline import Predictor, make_adapters

            predictor = Predictor(model, settings=settings, calibration=calibration, pm=pm)
            predictor.runtime()  # a broken model fails here once, not on every frame
            out_dir.mkdir(parents=True, exist_ok=True)
            outputs, owned = make_adapters(adapters, out_dir, pm, options)
            try:
                frame_outputs = [OverlayWriter(out_dir, max_side=overlay_side)] if overlay else []
                while pending:
                    done_here, failed_here = _predict_source(
                        pending.pop(0), predictor, outputs, frame_outputs, pm=pm
                    )
                    done, failures = done + done_here, failures + failed_here
            finally:
                for adapter in owned:
                    adapter.close()
    finally:
        for source in pending:  # left when the model failed to load or a run stopped
            source.close()
    click.echo(f"{done} image(s) predicted, {failures} failed; output in {out_dir}")
    if failures:
        ctx.exit(1)


#: Frames whose outputs (masks, adapters, overlay) may be written in the
#: background while the next frames are read and segmented.
WRITE_BEHIND = 2


def _predict_source(
    source: Source,
    predictor: Predictor,
    outputs: list[Adapter],
    frame_outputs: list[Any],
    *,
    pm: pluggy.PluginManager,
) -> tuple[int, int]:
    """Predict every frame of one opened input, printing a line each; ``(done, failed)``.

    Each frame's masks, files and overlay are written in a background thread
    while the next frame is read and segmented (:class:`~visionkit.pipeline.Pipeline`
    with ``overlap``); its line is printed once they are written or failed.
    """
    from visionkit.pipeline import Pipeline

    done = failures = 0
    with Pipeline(
        source, predictor, outputs, pm=pm, frame_outputs=frame_outputs, overlap=WRITE_BEHIND
    ) as pipeline:
        for result in pipeline:
            if result.prediction is not None:  # even when an adapter failed: keep the rest
                click.echo(_summary(result))
            if result.error is not None or result.prediction is None:
                click.echo(_error_line(result.source_id, result.error or "no prediction"), err=True)
                failures += 1
                continue
            done += 1
    return done, failures
