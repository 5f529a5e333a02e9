"""The portal uses the library; the library never imports Django or the portal."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "visionkit"
FORBIDDEN = ("django", "rest_framework", "django_q", "portal")


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_core_module_imports_django_or_the_portal() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 10  # the scan found the package
    offenders = {
        str(path.relative_to(CORE.parent)): sorted(_imported_roots(path) & set(FORBIDDEN))
        for path in modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}
