"""``visionkit calibration fit|show|apply|presets``: robot calibrations from the shell.

``fit`` turns measured point pairs into a calibration file, ``show`` prints
one (a file or a shipped preset such as ``ot2``), ``apply`` maps one pixel to
the robot, and ``presets`` lists the shipped presets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from visionkit.calibration import Calibration
    from visionkit.prediction import DishInfo

__all__ = ["calibration"]

_as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _open(ref: str) -> Calibration:
    """A calibration from a file path, or else from the preset of that name."""
    from visionkit.calibration import Calibration

    loaded = Calibration.resolve(ref)
    assert loaded is not None  # a string always names a file or a preset
    return loaded


def _parse_bbox(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int, int, int] | None:
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        numbers = [int(float(p)) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise click.BadParameter(f"{value!r}: give four numbers x0,y0,x1,y1", ctx, param)
    x0, y0, x1, y1 = numbers
    if x1 <= x0 or y1 <= y0:
        raise click.BadParameter(f"{value!r}: need x0 < x1 and y0 < y1", ctx, param)
    return x0, y0, x1, y1


@click.group()
def calibration() -> None:
    """Fit, show and apply robot calibrations (image pixels to robot metres)."""


@calibration.command()
@click.argument("points_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the fitted calibration here (.yaml or .json); default: print it.",
)
def fit(points_file: Path, out: Path | None) -> None:
    """Fit a calibration from POINTS_FILE's image/robot point pairs.

    POINTS_FILE (YAML or JSON) holds points: [{image: [x, y], robot: [x, y, z]}, ...]
    (at least 3, not all on one line) and optionally frame, z and
    input_units (px or plate_mm). Robot points are metres: one
    beyond the frame's reach (reach_m, 0.6 m for ot2, else 1 m) is
    refused, as is a fit whose residual exceeds 5 mm (exit 1, with the figure).

    Without --out only the calibration's JSON goes to stdout, so
    > fit.json gives a valid file; the residual goes to stderr.
    """
    from visionkit.calibration import Calibration

    fitted = Calibration.fit_file(points_file)
    residual = fitted.residual_mm or 0.0
    if out is None:
        click.echo(json.dumps(fitted.to_dict(), indent=2))
    else:
        fitted.save(out)
        click.echo(f"wrote {out}", err=True)
    click.echo(f"residual: {residual:.4f} mm RMS", err=True)


@calibration.command()
@click.argument("calibration_ref", metavar="FILE_OR_PRESET")
@_as_json
def show(calibration_ref: str, as_json: bool) -> None:
    """Print a calibration file or a shipped preset (e.g. ot2)."""
    loaded = _open(calibration_ref)
    if as_json:
        click.echo(json.dumps(loaded.to_dict(), indent=2))
    else:
        click.echo(loaded.describe())


@calibration.command()
def presets() -> None:
    """List the calibration presets shipped with visionkit."""
    from visionkit.calibration import preset_names

    for name in preset_names():
        click.echo(name)


@calibration.command(context_settings={"ignore_unknown_options": True})
@click.argument("calibration_ref", metavar="FILE_OR_PRESET")
@click.argument("x", type=float)
@click.argument("y", type=float)
@click.option(
    "--dish-bbox",
    callback=_parse_bbox,
    metavar="X0,Y0,X1,Y1",
    help="The dish's bounding box in pixels (for plate_mm calibrations).",
)
@click.option(
    "--mm-per-px",
    type=click.FloatRange(min=0.0, min_open=True),
    help="The dish's scale (for plate_mm calibrations).",
)
@_as_json
def apply(
    calibration_ref: str,
    x: float,
    y: float,
    dish_bbox: tuple[int, int, int, int] | None,
    mm_per_px: float | None,
    as_json: bool,
) -> None:
    """Map pixel X (column), Y (row) of the input image to the robot frame."""
    from visionkit.prediction import DishInfo

    if (dish_bbox is None) != (mm_per_px is None):
        raise click.UsageError("give --dish-bbox and --mm-per-px together")
    dish: DishInfo | None = None
    if dish_bbox is not None and mm_per_px is not None:
        dish = DishInfo(dish_bbox, mm_per_px)
    loaded = _open(calibration_ref)
    if loaded.input_units == "plate_mm" and dish is None:
        raise click.UsageError(
            f"calibration {calibration_ref!r} maps plate millimetres, so it needs the dish: "
            f"give --dish-bbox X0,Y0,X1,Y1 and --mm-per-px (a prediction's JSON has both, "
            f"as dish.bbox and dish.mm_per_px)"
        )
    point = loaded.to_robot(x, y, dish=dish)
    if as_json:
        click.echo(json.dumps(point.to_dict()))
    else:
        click.echo(f"{point.frame}: x={point.x:.6f} y={point.y:.6f} z={point.z:.6f} m")
