"""The ``visionkit`` command.

Subcommands live in ``visionkit/commands/<name>.py`` and are imported only
when invoked, so ``visionkit --help`` never pays for numpy, OpenCV or torch.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pluggy

__all__ = ["main", "plugin_manager"]

#: Subcommand name -> "module:attribute" of its click command.
_COMMANDS: dict[str, tuple[str, str]] = {
    "version": ("visionkit.commands.info:version", "Print the visionkit version."),
    "plugins": ("visionkit.commands.info:plugins", "List plugins, their versions and hooks."),
    "sources": ("visionkit.commands.info:sources", "List camera sources."),
    "adapters": ("visionkit.commands.info:adapters", "List output adapters."),
    "architectures": ("visionkit.commands.info:architectures", "List model architectures."),
    "cache": (
        "visionkit.commands.cache:cache",
        "List the ONNX export cache and prune what is not needed.",
    ),
    "calibration": (
        "visionkit.commands.calibration:calibration",
        "Fit, show and apply robot calibrations.",
    ),
    "calibrate": (
        "visionkit.commands.calibrate:calibrate",
        "Fit pixel to robot from fiducials (a CSV or typed) and save it.",
    ),
    "synth": (
        "visionkit.commands.synth:synth",
        "Generate synthetic Hades plates with ground truth.",
    ),
    "data": (
        "visionkit.commands.data:data",
        "Validate data folders, write manifests, push and pull them to Blob Storage.",
    ),
    "realism": ("visionkit.commands.realism:realism", "Compare a synthetic plate with a real one."),
    "train": (
        "visionkit.commands.train:train",
        "Train a segmentation model on Hades-convention data.",
    ),
    "predict": ("visionkit.commands.predict:predict", "Segment plates and find root tips."),
    "evaluate": ("visionkit.commands.evaluate:evaluate", "Score a model on full labelled images."),
    "export": (
        "visionkit.commands.export:export",
        "Write a model's ONNX (or 8-bit) export into its folder, ready to run.",
    ),
    "tune": ("visionkit.commands.tune:tune", "Search hyperparameters with Optuna."),
    "azureml": (
        "visionkit.commands.azureml:azureml",
        "Azure ML jobs: batch prediction as a parallel job (training: train --backend azureml).",
    ),
}


class _LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            module_name, attr = _COMMANDS[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from visionkit.exceptions import VisionkitError

        try:
            return super().invoke(ctx)
        except VisionkitError as exc:
            raise click.ClickException(str(exc)) from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe commands from the table so --help imports nothing.
        rows = [(name, help_) for name, (_, help_) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE_OR_FILE",
    help="Register an extra plugin: an importable module or a .py file. Repeatable.",
)
@click.pass_context
def main(ctx: click.Context, verbose: int, plugins: tuple[str, ...]) -> None:
    """visionkit: segment plant roots on petri-dish images and find root tips for a robot."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["plugins"] = plugins


def plugin_manager(ctx: click.Context) -> pluggy.PluginManager:
    """The plugin manager for this invocation, with ``--plugin`` extras registered.

    Built on first use and kept on the root context, so every subcommand of
    one invocation sees the same plugins, built once; pass it on as ``pm``.
    """
    from visionkit.plugins import get_plugin_manager

    root = ctx.find_root()
    root.ensure_object(dict)
    if "pm" not in root.obj:
        root.obj["pm"] = get_plugin_manager(root.obj.get("plugins", ()))
    pm: pluggy.PluginManager = root.obj["pm"]
    return pm


if __name__ == "__main__":  # pragma: no cover
    main()
