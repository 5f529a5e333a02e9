"""``visionkit data validate|manifest|push|pull``: check data folders, pin and move versions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from visionkit.data.convention import CLASSES

__all__ = ["data"]

_CLASS_HELP = "Classes to check (repeatable); all four by default."


@click.group()
def data() -> None:
    """Validate data folders, write manifests, push and pull them to storage."""


def _classes(values: tuple[str, ...]) -> tuple[str, ...]:
    return values or CLASSES


_class_option = click.option(
    "--class",
    "classes",
    multiple=True,
    type=click.Choice(CLASSES),
    help=_CLASS_HELP,
)
_no_masks_option = click.option(
    "--no-masks",
    "no_masks",
    is_flag=True,
    help="Images without masks are fine (a folder for inference).",
)


@data.command()
@click.argument("folder", type=click.Path(path_type=Path))
@_class_option
@_no_masks_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(folder: Path, classes: tuple[str, ...], no_masks: bool, as_json: bool) -> None:
    """Check FOLDER against the mask convention; exit 1 listing every problem."""
    from visionkit.data.validate import validate_folder

    report = validate_folder(folder, classes=_classes(classes), require_masks=not no_masks)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        masks = ", ".join(f"{c} {n}" for c, n in report.mask_counts.items())
        click.echo(f"{folder}: {report.n_images} images; masks: {masks}")
        for warning in report.warnings:
            click.echo(f"warning: {warning}")
        if report.ok:
            click.echo("OK: no problems found")
    if not report.ok:
        raise click.ClickException(
            f"{len(report.problems)} problem(s):\n"
            + "\n".join(f"  - {problem}" for problem in report.problems)
        )


@data.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the manifest (default FOLDER/manifest.json).",
)
@_class_option
@_no_masks_option
def manifest(folder: Path, out: Path | None, classes: tuple[str, ...], no_masks: bool) -> None:
    """Validate FOLDER, then write its manifest and print its data version."""
    from visionkit.data.manifest import MANIFEST_NAME, build_manifest
    from visionkit.data.validate import validate_folder

    report = validate_folder(folder, classes=_classes(classes), require_masks=not no_masks)
    if not report.ok:
        raise click.ClickException(
            f"{folder}: not writing a manifest, {len(report.problems)} problem(s):\n"
            + "\n".join(f"  - {problem}" for problem in report.problems)
        )
    target = out if out is not None else folder / MANIFEST_NAME
    result = build_manifest(folder, report=report, exclude=[target])
    result.write(target)
    click.echo(f"version: {result.version}")
    click.echo(f"files: {len(result.files)}  images: {result.n_images}  masks: {result.n_masks}")
    shares = ", ".join(f"{c} {s:.4%}" for c, s in result.class_shares.items())
    click.echo(f"class pixel shares: {shares}")
    click.echo(f"written: {target}")


def _echo_progress(action: str, key: str) -> None:
    click.echo(f"{action:>8}  {key}")


@data.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("url")
@click.option(
    "--create-container",
    is_flag=True,
    help="Create the Blob container if it does not exist (default: fail naming it).",
)
@click.option(
    "--block-size",
    type=click.IntRange(min=1),
    default=None,
    metavar="BYTES",
    help="Bytes per uploaded block (Blob Storage; default 4 MiB).",
)
def push(folder: Path, url: str, create_container: bool, block_size: int | None) -> None:
    """Upload FOLDER (a data set version, a model folder) to URL, verifying every file.

    URL is azblob://container/prefix (credentials from AZURE_STORAGE_* variables)
    or a local folder. With FOLDER/manifest.json, its files are sent as it lists
    them (each checked against it first) and the manifest last; without, every
    file. Files already there with the same sha256 are skipped; a killed push
    resumes where it stopped.
    """
    from visionkit.storage import open_storage, push_folder

    storage = open_storage(url, block_size=block_size, create_container=create_container)
    report = push_folder(folder, storage, progress=_echo_progress)
    if report.version:
        click.echo(f"version: {report.version}")
    click.echo(report.summary())


@data.command()
@click.argument("url")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def pull(url: str, folder: Path) -> None:
    """Download what URL holds into FOLDER, verifying every file's sha256.

    With a stored manifest.json, its files are fetched and the manifest is
    written last, once all verified; without, every stored file is fetched
    and checked against the sha256 recorded with it. Files already in FOLDER
    with the right content are skipped; a killed pull resumes. A corrupt
    stored file is named and not written; the good ones are kept.
    """
    from visionkit.storage import open_storage, pull_folder

    report = pull_folder(open_storage(url), folder, progress=_echo_progress)
    if report.version:
        click.echo(f"version: {report.version}")
    click.echo(report.summary())
