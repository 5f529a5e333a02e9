"""Options that ``visionkit predict`` and ``visionkit evaluate`` share.

Kept to click and constants: ``--help`` must not import the inference stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["BACKENDS", "mask_options"]

#: Inference runtimes (see visionkit.inference.runtime).
BACKENDS = ("onnx", "torch", "torchscript", "onnx-int8")


def mask_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--all-roots`` and ``--refine-radius`` (parameters ``all_roots``, ``refine``)."""
    command = click.option(
        "--refine-radius",
        "refine",
        type=click.IntRange(min=0),
        default=None,
        help="Edge-aware mask upsampling radius in working px; 0 is bilinear [default: 3].",
    )(command)
    return click.option(
        "--all-roots",
        is_flag=True,
        help="Keep every root pixel in the masks, not only the plants' root systems.",
    )(command)
