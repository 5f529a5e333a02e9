"""Options that ``visionkit predict``, ``evaluate`` and ``export`` share, and their settings.

Each option's range is a click type, so a bad value is a usage error before
anything is loaded; :func:`predict_settings` then builds the one
:class:`~visionkit.settings.PredictSettings` the command hands to the library
(its own checks become usage errors too). Kept to click and
:mod:`visionkit.settings`: ``--help`` must not import the inference stack.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from visionkit.exceptions import SettingsError
from visionkit.settings import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_REFINE_RADIUS,
    PredictSettings,
    SegmentSettings,
)

__all__ = ["default_model_option", "mask_options", "predict_settings", "segment_options"]

#: ``--model FOLDER`` (parameter ``model``), defaulting to the installed default model.
default_model_option = click.option(
    "--model",
    "model",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Model folder (default: the installed default model).",
)


def mask_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--all-roots`` and ``--refine-radius`` (parameters ``all_roots``, ``refine``)."""
    command = click.option(
        "--refine-radius",
        "refine",
        type=click.IntRange(min=0),
        default=DEFAULT_REFINE_RADIUS,
        show_default=True,
        help="Edge-aware mask upsampling radius in working px; 0 is bilinear.",
    )(command)
    return click.option(
        "--all-roots",
        is_flag=True,
        help="Keep every root pixel in the masks, not only the plants' root systems.",
    )(command)


def segment_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--backend``, ``--scale``, ``--tta``, ``--skip-empty`` and :func:`mask_options`.

    ``visionkit evaluate`` takes the same options as ``visionkit predict``, so
    a setting can be scored on labelled plates before a lab predicts with it.
    """
    command = click.option(
        "--skip-empty/--no-skip-empty",
        default=True,
        show_default=True,
        help="Run the network only over the band of rows that holds the plants "
        "(--no-skip-empty: every row; see docs/predict.md#skipping-empty-agar).",
    )(command)
    command = click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default=None,
        help=f"Inference runtime [default: the model's own (the default model: onnx-int8), "
        f"else {DEFAULT_BACKEND}].",
    )(command)
    command = mask_options(command)
    command = click.option(
        "--tta/--no-tta", default=False, help="Test-time augmentation (horizontal flip)."
    )(command)
    return click.option(
        "--scale",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Working scale, working px per input px, at most 4 [default: the model's resolution].",
    )(command)


def predict_settings(
    *,
    backend: str | None,
    scale: float | None,
    tta: bool,
    refine: int,
    all_roots: bool,
    threads: int | None = None,
    expected_plants: int = PredictSettings.expected_plants,
    skip_empty: bool = True,
) -> PredictSettings:
    """The settings the options describe; a value the settings refuse is a usage error.

    Raises:
        click.UsageError: the settings refuse a value (e.g. ``--scale 9``);
            the message names the setting and its valid range.
    """
    try:
        segment = SegmentSettings(
            backend=backend,
            scale=scale,
            tta=tta,
            threads=threads,
            refine=refine,
            skip_empty=skip_empty,
        )
        return PredictSettings(
            segment=segment, expected_plants=expected_plants, plant_roots_only=not all_roots
        )
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
