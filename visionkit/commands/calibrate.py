"""``visionkit calibrate``: fit pixel -> robot from fiducials in a CSV or typed at a prompt.

Prints each fiducial's error and the mean in mm, warns when the points are
nearly on one line or one is more than 0.5 mm off, and saves the calibration
file every adapter reads (``visionkit predict --calibration FILE``).
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

__all__ = ["calibrate"]


def _typed_points() -> tuple[np.ndarray, np.ndarray]:
    """Fiducials typed one per line: ``image_x image_y robot_x robot_y [robot_z]``; blank ends."""
    click.echo("Type each fiducial as: image_x image_y robot_x robot_y [robot_z]")
    click.echo("(pixels, then robot metres; an empty line ends, at least 3 points)")
    image: list[list[float]] = []
    robot: list[list[float]] = []
    while True:
        line = click.prompt(f"point {len(image) + 1}", default="", show_default=False).strip()
        if not line:
            if len(image) >= 3:
                break
            click.echo(f"need at least 3 points, have {len(image)}", err=True)
            continue
        try:
            values = [float(v) for v in line.replace(",", " ").split()]
        except ValueError:
            values = []
        if len(values) not in (4, 5):
            click.echo("give 4 or 5 numbers: image_x image_y robot_x robot_y [robot_z]", err=True)
            continue
        image.append(values[:2])
        robot.append([*values[2:4], values[4] if len(values) == 5 else 0.0])
    return np.asarray(image), np.asarray(robot)


@click.command()
@click.argument("points_csv", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to save the calibration (.json or .yaml).")  # fmt: skip
@click.option("--frame", default="robot", show_default=True,
              help="The robot frame's name (ot2 checks the OT-2 deck's reach).")  # fmt: skip
def calibrate(points_csv: Path | None, out: Path, frame: str) -> None:
    """Fit a calibration from 3+ fiducial pairs (POINTS_CSV, or typed) and save it to --out.

    POINTS_CSV has the columns image_x, image_y (pixels), robot_x, robot_y and
    optionally robot_z (metres). Without it, the points are asked for one by one.
    """
    from visionkit.calibration_fit import fit_points, read_points_csv
    from visionkit.exceptions import CalibrationError

    try:
        if points_csv is not None:
            image, robot = read_points_csv(points_csv.read_text(), source=str(points_csv))
        else:
            image, robot = _typed_points()
        report = fit_points(image, robot, frame=frame)
    except CalibrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'point':>5}  {'image x':>9}  {'image y':>9}  {'error mm':>8}")
    for number, ((x, y), error) in enumerate(zip(image, report.errors_mm, strict=True), start=1):
        click.echo(f"{number:>5}  {x:>9.1f}  {y:>9.1f}  {error:>8.3f}")
    click.echo(f"mean error: {report.mean_mm:.3f} mm over {len(report.errors_mm)} points "
               f"(RMS residual {report.calibration.residual_mm or 0.0:.3f} mm)")  # fmt: skip
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    saved = report.calibration.save(out)
    click.echo(f"saved {saved}: use it with visionkit predict --calibration {saved}")
