"""Write Azure ML specs as YAML files, each checked by azure-ai-ml's own loader first.

:func:`write_specs` writes every file into a scratch folder beside ``out``,
loads each with ``azure.ai.ml.load_job`` (jobs) or ``load_environment``
(environments) and runs the entity's validation, and only then moves them
into ``out``: a spec the SDK refuses raises :class:`~visionkit.azureml.AzureMLError`
naming the file and the SDK's message, and leaves nothing written.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path
from typing import Any

import yaml

from visionkit.azureml import AzureMLError

__all__ = ["load_spec", "project_root", "relative", "requirements", "write_specs"]

logger = logging.getLogger(__name__)

#: Extras of visionkit an Azure ML job needs (training and Blob access).
JOB_EXTRAS = ("ml", "azure")


def project_root() -> Path:
    """The project folder (with ``pyproject.toml`` and ``Dockerfile``) a job snapshots.

    Raises:
        AzureMLError: visionkit is not running from a checkout (give ``--code``).
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise AzureMLError(
            f"{root} is not a visionkit checkout (no pyproject.toml): give the project "
            "folder to snapshot with --code DIR"
        )
    return root


def relative(target: Path, folder: Path) -> str:
    """``target`` as the loaders will resolve it from a YAML file in ``folder``."""
    try:
        return os.path.relpath(target.resolve(), folder.resolve())
    except ValueError:  # another drive (Windows)
        return str(target.resolve())


def requirements() -> list[str]:
    """visionkit's requirements with the :data:`JOB_EXTRAS`, for the conda file."""
    try:
        declared = requires("visionkit") or []
    except PackageNotFoundError:  # pragma: no cover - always installed here
        return []
    out = []
    for line in declared:
        spec, _, marker = line.partition(";")
        marker = marker.strip()
        wanted = not marker or any(f'extra == "{extra}"' in marker for extra in JOB_EXTRAS)
        if wanted and spec.strip() and not spec.strip().startswith("visionkit"):
            out.append(spec.strip())
    return sorted(set(out))


def load_spec(path: Path) -> Any:
    """Load ``path`` with the SDK's loader and validate it; the entity.

    Raises:
        AzureMLError: the loader or the entity's validation refuses it.
    """
    from azure.ai.ml import load_environment, load_job

    text = path.read_text(encoding="utf-8")
    is_environment = "environment.schema.json" in text
    try:
        entity = (load_environment if is_environment else load_job)(source=path)
        check = getattr(entity, "_validate", None)
        if check is not None:
            result = check()
            if not result.passed:
                raise AzureMLError(f"{path.name}: {result.error_messages}")
    except AzureMLError:
        raise
    except Exception as exc:  # the SDK raises ValidationException, ValidationError...
        raise AzureMLError(f"{path.name}: azure-ai-ml refuses it: {exc}") from exc
    return entity


def write_specs(out: Path, specs: Mapping[str, Mapping[str, Any]]) -> list[Path]:
    """Write each ``file name -> spec`` into ``out`` as YAML, all checked first.

    Specs with relative paths are resolved from ``out`` (the loaders' rule),
    so they are checked in a scratch folder inside ``out`` one level down and
    rewritten with paths relative to ``out`` itself: callers give paths as
    seen from ``out``.

    Raises:
        AzureMLError: a spec is refused (nothing is left in ``out``).
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    existed = {p.name for p in out.iterdir()}
    try:
        written = _write(out, specs)
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    logger.info("wrote %s (replaced: %s)", ", ".join(p.name for p in written),
                ", ".join(sorted(existed & set(specs))) or "none")  # fmt: skip
    return written


def _write(out: Path, specs: Mapping[str, Mapping[str, Any]]) -> list[Path]:
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=".specs-", dir=out.parent) as scratch:
        # The scratch folder is a sibling of out: relative paths resolve the same.
        folder = Path(scratch)
        for name, spec in specs.items():
            (folder / name).write_text(
                yaml.safe_dump(dict(spec), sort_keys=False, width=100), encoding="utf-8"
            )
        for name in specs:
            if name.endswith((".yml", ".yaml")) and "$schema" in specs[name]:
                load_spec(folder / name)
        for name in specs:
            target = out / name
            shutil.move(str(folder / name), target)
            written.append(target)
    return written
