"""Every command's ``--help`` reads as plain text: no reStructuredText markup."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from visionkit.cli import _COMMANDS, main

#: What Sphinx renders but a terminal shows raw.
MARKUP = re.compile(r"``|:(?:func|class|mod|meth|attr|data|exc):`")


def _paths(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _paths(sub, (*path, name))
    return found


def _every_command() -> list[tuple[str, ...]]:
    ctx = click.Context(main)
    paths: list[tuple[str, ...]] = [()]
    for name in sorted(_COMMANDS):
        command = main.get_command(ctx, name)
        assert command is not None
        paths += _paths(command, (name,))
    return paths


@pytest.mark.parametrize("path", _every_command(), ids=lambda p: " ".join(p) or "visionkit")
def test_help_has_no_markup(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert not MARKUP.search(result.output), result.output
