"""Every shell command in README.md and docs/getting-started.md runs, in order.

A newcomer copies these blocks into a terminal one after the other; so does
this test, in an empty folder per page, with the installed ``visionkit`` on
``PATH``. It is marked ``e2e`` (``make test-e2e``, which CI runs after
``make test``). Only sizes change, so the run fits CI: each substitution in
:data:`SMALLER` must match the page (a test below says so), and what is left
out is said in :data:`LEFT_OUT` with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real" / "hades_dish_crop.png"

#: Page -> (documented text, what CI runs instead): smaller runs, same commands.
SMALLER: dict[str, list[tuple[str, str]]] = {
    "README.md": [
        ("--epochs 2 --patches-per-epoch 64", "--epochs 1 --patches-per-epoch 16 --patch-size 128"),
    ],
    "docs/getting-started.md": [
        ("--n 24 --seed 1", "--n 3 --seed 1"),
        (
            "--epochs 4 --patches-per-epoch 128",
            "--epochs 1 --patches-per-epoch 16 --patch-size 128",
        ),
    ],
}

#: Commands not run here, and why.
LEFT_OUT = {
    "make ": "the Makefile targets are what CI itself runs (.ci/run: make test, make demo)",
    "python3.11 -m venv": "the install block: make setup runs these very commands before the tests",
    ".venv/bin/pip install": "the install block: make setup runs these very commands",
}

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def shell_commands(page: str) -> list[str]:
    """The commands of a page's ``bash`` blocks and the ``$`` lines of its ``console`` blocks."""
    commands: list[str] = []
    for language, body in _FENCE.findall((ROOT / page).read_text(encoding="utf-8")):
        for line in body.splitlines():
            if language == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            elif language != "bash":
                continue
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def _runnable(command: str) -> bool:
    return not any(command.startswith(prefix) for prefix in LEFT_OUT)


def _environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlruns.db'}",
        "VISIONKIT_CACHE": str(folder / ".cache"),
    }


@pytest.mark.parametrize("page", sorted(SMALLER))
def test_every_size_substitution_matches_the_page(page: str) -> None:
    text = "\n".join(shell_commands(page))
    for documented, _ in SMALLER[page]:
        assert documented in text, f"{page} no longer says {documented!r}: update SMALLER"


@pytest.mark.e2e
@pytest.mark.parametrize("page", sorted(SMALLER))
def test_the_commands_of_a_page_run_in_order(page: str, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    if REAL.is_file():  # the README compares a synthetic plate with ../shared/real's crop
        (tmp_path / "shared" / "real").mkdir(parents=True)
        shutil.copy(REAL, tmp_path / "shared" / "real" / REAL.name)
    env = _environment(folder)
    ran = 0
    for command in filter(_runnable, shell_commands(page)):
        if "../shared/real/" in command and not REAL.is_file():
            continue  # no real crop on this machine: the README says it is the user's own
        for documented, smaller in SMALLER[page]:
            command = command.replace(documented, smaller)
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"{page}: `{command}` failed:\n{done.stdout}\n{done.stderr}"
        ran += 1
    assert ran >= 6, f"{page}: only {ran} commands ran"
