"""Every hook is documented under its exact signature, and exercised by some test.

After datasette's ``test_plugin_hooks_are_documented``: ``docs/plugins.md``
has one ``###`` heading per hook spec in :mod:`visionkit.hookspecs`, written
as the signature (names, annotations, return annotation); a hook added,
renamed or retyped without the docs following fails here, and so does a
heading for a hook that no longer exists.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from visionkit import hookspecs

ROOT = Path(__file__).resolve().parents[1]
PLUGINS_DOC = ROOT / "docs" / "plugins.md"
TESTS = ROOT / "tests"

_HEADING = re.compile(r"^###\s+(.+?)\s*$")
_HOOK_HEADING = re.compile(r"^(?P<name>visionkit_\w+)\(")


def _hook_specs() -> dict[str, Callable[..., Any]]:
    marker = f"{hookspecs.PROJECT}_spec"
    return {
        name: fn
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, marker)
    }


def _signature(fn: Callable[..., Any]) -> str:
    """``name(param: annotation, ...) -> return``, annotations as written in the source."""
    sig = inspect.signature(fn)
    params = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
        for p in sig.parameters.values()
    )
    text = f"{fn.__name__}({params})"
    if sig.return_annotation is not inspect.Signature.empty:
        text += f" -> {sig.return_annotation}"
    return text


def _documented_hooks() -> dict[str, str]:
    """Hook name -> heading text (backticks stripped) for each hook heading in plugins.md."""
    found: dict[str, str] = {}
    for line in PLUGINS_DOC.read_text(encoding="utf-8").splitlines():
        heading = _HEADING.match(line)
        if heading is None:
            continue
        text = heading.group(1).strip("`")
        hook = _HOOK_HEADING.match(text)
        if hook is not None:
            found[hook.group("name")] = text
    return found


def test_hookspecs_are_found() -> None:
    # guards the tests below against passing on an empty list
    assert {"visionkit_register_sources", "visionkit_open_source"} <= set(_hook_specs())


def test_signature_uses_the_annotations_as_written() -> None:
    assert _signature(hookspecs.visionkit_open_source) == (
        "visionkit_open_source(uri: str, options: dict[str, Any]) -> Source | None"
    )


@pytest.mark.parametrize("hook", sorted(_hook_specs()))
def test_hook_is_documented_under_its_signature(hook: str) -> None:
    expected = _signature(_hook_specs()[hook])
    documented = _documented_hooks()
    assert hook in documented, f"docs/plugins.md has no '### `{expected}`' heading for {hook}"
    assert documented[hook] == expected, (
        f"docs/plugins.md documents {hook} as {documented[hook]!r}; "
        f"the spec in visionkit/hookspecs.py is {expected!r}"
    )


def test_no_heading_documents_a_hook_that_does_not_exist() -> None:
    stale = sorted(set(_documented_hooks()) - set(_hook_specs()))
    assert stale == [], f"docs/plugins.md documents hooks that do not exist: {stale}"


@pytest.mark.parametrize("hook", sorted(_hook_specs()))
def test_hook_is_exercised_by_a_test(hook: str) -> None:
    users = [
        path
        for path in TESTS.rglob("*.py")
        if path.resolve() != Path(__file__).resolve() and hook in path.read_text(encoding="utf-8")
    ]
    assert users, f"no test under tests/ mentions {hook}; add one that calls it"
