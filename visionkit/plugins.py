"""Build the plugin manager and look up what plugins registered.

:func:`get_plugin_manager` is a factory, never run at import time: it adds
the hook specs, loads the ``visionkit`` entry-point group, registers the
built-in plugins and extra ones named in ``VISIONKIT_PLUGINS``, then calls
``check_pending()`` so a misspelt hook fails loudly.

Environment variables:

``VISIONKIT_DISABLE_PLUGIN_AUTOLOAD=1``
    skip the entry-point group (built-ins still load), e.g. to rule out a
    broken third-party plugin.
``VISIONKIT_TRACE_HOOKS=1``
    log every hook call and its result at DEBUG level on ``visionkit.hooks``.
``VISIONKIT_PLUGINS=mod_a,path/to/plugin_b.py``
    extra plugins to register: importable module names or ``.py`` files.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from visionkit import hookspecs
from visionkit.exceptions import PluginError, SourceNotFoundError, UnknownNameError
from visionkit.specs import AdapterSpec, ArchitectureSpec, SourceSpec

if TYPE_CHECKING:
    from visionkit.adapters.base import Adapter
    from visionkit.sources.base import Source

__all__ = [
    "BUILTIN_PLUGINS",
    "adapter_specs",
    "architecture_specs",
    "create_adapter",
    "get_adapter_spec",
    "get_architecture_spec",
    "get_plugin_manager",
    "get_source_spec",
    "list_plugins",
    "load_plugin_file",
    "open_source",
    "source_specs",
]

logger = logging.getLogger(__name__)
_hook_logger = logging.getLogger("visionkit.hooks")

#: Modules registered as plugins by every plugin manager, in this order.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "visionkit.sources.files",
    "visionkit.sources.hades",
    "visionkit.sources.opencv",
    "visionkit.sources.url",
    "visionkit.adapters.json_adapter",
    "visionkit.adapters.csv_adapter",
    "visionkit.adapters.coco",
    "visionkit.adapters.webhook",
    "visionkit.architectures.smp",
)

ENV_DISABLE_AUTOLOAD = "VISIONKIT_DISABLE_PLUGIN_AUTOLOAD"
ENV_TRACE = "VISIONKIT_TRACE_HOOKS"
ENV_PLUGINS = "VISIONKIT_PLUGINS"

_TRUE = {"1", "true", "yes", "on"}

SpecT = TypeVar("SpecT", SourceSpec, AdapterSpec, ArchitectureSpec)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def load_plugin_file(path: str | os.PathLike[str]) -> ModuleType:
    """Import a ``.py`` file as a module so it can be registered as a plugin.

    Raises:
        PluginError: the file does not exist or fails to import.
    """
    file = Path(path)
    if not file.is_file():
        raise PluginError(f"plugin file {file} does not exist")
    module_name = f"visionkit_plugin_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd suffixes
        raise PluginError(f"cannot import plugin file {file}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"plugin file {file} failed to import: {exc}") from exc
    sys.modules[module_name] = module
    return module


def _import_plugin(ref: str) -> ModuleType:
    if ref.endswith(".py") or os.sep in ref or "/" in ref:
        return load_plugin_file(ref)
    try:
        return importlib.import_module(ref)
    except ImportError as exc:
        raise PluginError(f"plugin module {ref!r} cannot be imported: {exc}") from exc


def get_plugin_manager(
    extra_plugins: Iterable[str | object] = (),
    *,
    autoload: bool | None = None,
) -> pluggy.PluginManager:
    """Build a plugin manager with every hook spec and plugin loaded.

    Args:
        extra_plugins: more plugins to register: module names, ``.py`` paths,
            or plugin objects (modules, class instances).
        autoload: load the ``visionkit`` entry-point group; defaults to true
            unless ``VISIONKIT_DISABLE_PLUGIN_AUTOLOAD`` is set.

    Raises:
        PluginError: a plugin cannot be imported, or implements a hook that
            no spec defines (a misspelling).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    # pluggy calls the most recently registered plugin first: built-ins go in
    # first so that third-party plugins can claim a URI before them.
    for ref in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(ref), name=ref)
    if autoload is None:
        autoload = not _env_flag(ENV_DISABLE_AUTOLOAD)
    if autoload:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    env_refs = [r.strip() for r in os.environ.get(ENV_PLUGINS, "").split(",") if r.strip()]
    for plugin in [*env_refs, *extra_plugins]:
        obj = _import_plugin(plugin) if isinstance(plugin, str) else plugin
        if not pm.is_registered(obj):
            pm.register(obj)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc} (is the hook name misspelt?)") from exc
    if _env_flag(ENV_TRACE):
        pm.trace.root.setwriter(lambda message: _hook_logger.debug(message.rstrip()))
        pm.enable_tracing()
    return pm


def _plugin_label(pm: pluggy.PluginManager, plugin: object) -> str:
    name = pm.get_name(plugin) or repr(plugin)
    for dist_plugin, dist in pm.list_plugin_distinfo():
        if dist_plugin is plugin:
            return f"{name} ({dist.project_name})"
    return name


def _collect(pm: pluggy.PluginManager, hook_name: str, kind: str) -> dict[str, tuple[Any, str]]:
    """Call one register hook per plugin, so each name can be traced to its plugin."""
    found: dict[str, tuple[Any, str]] = {}
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():
        owner = _plugin_label(pm, impl.plugin)
        if _env_flag(ENV_TRACE):
            _hook_logger.debug("%s from %s", hook_name, owner)
        try:
            specs = impl.function() or []
        except Exception as exc:
            raise PluginError(f"plugin {owner} failed in {hook_name}: {exc}") from exc
        for spec in specs:
            if spec.name in found:
                other = found[spec.name][1]
                raise PluginError(
                    f"{kind} name {spec.name!r} is registered twice: by {other} and by {owner}; "
                    f"uninstall or rename one of them"
                )
            found[spec.name] = (spec, owner)
    return found


def source_specs(pm: pluggy.PluginManager | None = None) -> dict[str, SourceSpec]:
    """Every registered camera source, by name."""
    pm = pm or get_plugin_manager()
    return {k: v[0] for k, v in _collect(pm, "visionkit_register_sources", "source").items()}


def adapter_specs(pm: pluggy.PluginManager | None = None) -> dict[str, AdapterSpec]:
    """Every registered output adapter, by name."""
    pm = pm or get_plugin_manager()
    return {k: v[0] for k, v in _collect(pm, "visionkit_register_adapters", "adapter").items()}


def architecture_specs(pm: pluggy.PluginManager | None = None) -> dict[str, ArchitectureSpec]:
    """Every registered model architecture, by name."""
    pm = pm or get_plugin_manager()
    return {
        k: v[0] for k, v in _collect(pm, "visionkit_register_architectures", "architecture").items()
    }


def _lookup(kind: str, name: str, table: dict[str, SpecT]) -> SpecT:
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(kind, name, table) from None


def get_source_spec(name: str, pm: pluggy.PluginManager | None = None) -> SourceSpec:
    """The source registered as ``name``; the error lists the valid names."""
    return _lookup("source", name, source_specs(pm))


def get_adapter_spec(name: str, pm: pluggy.PluginManager | None = None) -> AdapterSpec:
    """The adapter registered as ``name``; the error lists the valid names."""
    return _lookup("adapter", name, adapter_specs(pm))


def get_architecture_spec(name: str, pm: pluggy.PluginManager | None = None) -> ArchitectureSpec:
    """The architecture registered as ``name``; the error lists the valid names."""
    return _lookup("architecture", name, architecture_specs(pm))


def create_adapter(name: str, pm: pluggy.PluginManager | None = None, **options: Any) -> Adapter:
    """Create the adapter registered as ``name`` with ``options``."""
    return get_adapter_spec(name, pm).create(**options)


def open_source(
    uri: str,
    pm: pluggy.PluginManager | None = None,
    *,
    source: str | None = None,
    **options: Any,
) -> Source:
    """Open a source for ``uri``.

    With ``source`` given, that named source opens it; otherwise the first
    plugin whose ``visionkit_open_source`` accepts the URI does.

    Raises:
        SourceNotFoundError: no plugin accepts the URI.
        UnknownNameError: ``source`` names no registered source.
    """
    pm = pm or get_plugin_manager()
    if source is not None:
        return get_source_spec(source, pm).open(uri, **options)
    opened = pm.hook.visionkit_open_source(uri=uri, options=options)
    if opened is None:
        names = ", ".join(sorted(source_specs(pm)))
        raise SourceNotFoundError(
            f"no source can open {uri!r}: give an existing image file, folder or glob, "
            f"a camera index, a video file or an http(s) URL (sources: {names})"
        )
    return opened


def list_plugins(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """Describe each registered plugin: name, version, hooks, and whether built in."""
    pm = pm or get_plugin_manager()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        dist = dists.get(id(plugin))
        builtin = name in BUILTIN_PLUGINS
        if dist is not None:
            version = dist.version
            label = dist.project_name
        elif builtin:
            from visionkit import __version__

            version, label = __version__, name
        else:
            version = str(getattr(plugin, "__version__", "")) or None
            label = name
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        out.append({"name": label, "version": version, "hooks": hooks, "builtin": builtin})
    return sorted(out, key=lambda p: (not p["builtin"], p["name"]))
