"""``visionkit synth``: write synthetic Hades plates with masks and landmarks."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["synth"]


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the plates into (created if missing).",
)
@click.option("--n", "count", required=True, type=click.IntRange(min=0), help="Number of plates.")
@click.option(
    "--seed",
    required=True,
    type=click.IntRange(min=0),
    help="Data set seed; plate i is the same for the same seed whatever --workers is.",
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Processes to use."
)
@click.option(
    "--crop", is_flag=True, help="Write the dish crop instead of the full 4202 x 3006 frame."
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05, max=1.0),
    help="Resolution factor, e.g. 0.5 for half-scale plates (px/mm scales too).",
)
@click.option("--half-scale", is_flag=True, help="Shorthand for --scale 0.5.")
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="NAME",
    help="Add a variation family (repeatable): faint, fading, hairless, shallow_crossing, "
    "long_lateral, tiny, wide, or 'all'. See docs/synthetic.md.",
)
@click.option(
    "--exclude-family",
    "excluded",
    multiple=True,
    metavar="NAME",
    help="Every family but these (repeatable): the training side of a held-out family.",
)
@click.option(
    "--family-rate",
    default=0.5,
    show_default=True,
    type=click.FloatRange(min=0.0, max=1.0),
    help="Each family's chance per plant (per plate for wide and shallow_crossing).",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def synth(
    out_dir: Path,
    count: int,
    seed: int,
    workers: int,
    crop: bool,
    scale: float,
    half_scale: bool,
    families: tuple[str, ...],
    excluded: tuple[str, ...],
    family_rate: float,
    no_progress: bool,
) -> None:
    """Generate synthetic Hades plates with ground truth.

    Each plate is a Hades-named 8-bit PNG with <stem>_root_mask.tif,
    _shoot_mask.tif, _seed_mask.tif, _occluded_root_mask.tif and
    <stem>.landmarks.json (primary-root start, tip, path and length per plant).
    --family adds variation families (e.g. a validation set of only faint
    roots: --family faint --family-rate 1); --exclude-family trains on every
    other family.
    """
    from visionkit.synth import SynthConfig, generate_dataset
    from visionkit.synth.families import FAMILIES, check_families

    if families and excluded:
        raise click.UsageError("give --family or --exclude-family, not both")
    try:
        check_families(excluded)
        names = tuple(FAMILIES) if "all" in families else check_families(families)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--family") from None
    if excluded:
        names = tuple(n for n in FAMILIES if n not in excluded)
    factor = 0.5 if half_scale else scale
    base = SynthConfig(families=names, p_family=family_rate)
    config = base if factor == 1.0 else base.scaled(factor)
    files = generate_dataset(
        out_dir, count, seed, workers=workers, crop=crop, config=config, progress=not no_progress
    )
    images = [f for f in files if f.suffix == ".png"]
    click.echo(f"wrote {len(images)} plates ({len(files)} files) to {out_dir}")
