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

Library functions that need plugins take ``pm: pluggy.PluginManager | None``;
``None`` means :func:`default_plugin_manager`, one manager built on first use
and kept for the process. Each public function resolves ``pm`` once and hands
it down, so one call never builds two managers. Pass your own manager (from
:func:`get_plugin_manager`) to use plugins the default does not have.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    "default_plugin_manager",
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
    "visionkit.sources.azblob",
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
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, "__file__", None) != str(file):
        # another file with the same stem: keep both importable
        digest = hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:8]
        module_name = f"{module_name}_{digest}"
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


def _is_file_ref(ref: str) -> bool:
    return ref.endswith(".py") or os.sep in ref or "/" in ref


def _import_plugin(ref: str) -> ModuleType:
    if _is_file_ref(ref):
        return load_plugin_file(ref)
    try:
        return importlib.import_module(ref)
    except ImportError as exc:
        raise PluginError(f"plugin module {ref!r} cannot be imported: {exc}") from exc


def _register_extras(pm: pluggy.PluginManager, refs: Iterable[str | object]) -> None:
    """Register extra plugins; one named twice (env and ``--plugin``) is registered once.

    A ``.py`` file is registered under its path as given, so listings show a
    name a person recognises; the same file reached by two spellings of its
    path counts once.
    """
    seen: set[str] = set()
    for ref in refs:
        name: str | None = None
        if isinstance(ref, str):
            key = str(Path(ref).expanduser().resolve()) if _is_file_ref(ref) else ref
            if key in seen:
                continue
            seen.add(key)
            obj: object = _import_plugin(ref)
            name = ref if _is_file_ref(ref) else None
        else:
            obj = ref
        if pm.is_registered(obj):
            continue  # e.g. a module both installed (entry point) and named again
        try:
            pm.register(obj, name=name)
        except ValueError as exc:  # pluggy: this name is taken by another plugin
            raise PluginError(
                f"cannot register plugin {name or pm.get_canonical_name(obj)}: {exc}"
            ) from exc


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
    _register_extras(pm, [*env_refs, *extra_plugins])
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc} (is the hook name misspelt?)") from exc
    if _env_flag(ENV_TRACE):
        pm.trace.root.setwriter(lambda message: _hook_logger.debug(message.rstrip()))
        pm.enable_tracing()
        pm.add_hookcall_monitoring(_tracer_before(pm), _tracer_after)
    return pm


@functools.cache
def default_plugin_manager() -> pluggy.PluginManager:
    """The plugin manager that library calls given ``pm=None`` use, built once per process.

    It is :func:`get_plugin_manager` with no extras, so it reads
    ``VISIONKIT_PLUGINS`` and the entry points the first time it is needed;
    later changes to them are not seen. Tests that change them call
    ``default_plugin_manager.cache_clear()`` to get a fresh one next time.
    """
    return get_plugin_manager()


def _tracer_before(
    pm: pluggy.PluginManager,
) -> Callable[[str, Sequence[pluggy.HookImpl], Mapping[str, object]], None]:
    """A hook-call monitor that logs which plugins a hook call reaches, in call order."""

    def before(
        hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
    ) -> None:
        for impl in reversed(impls):
            kind = " (wrapper)" if impl.hookwrapper or impl.wrapper else ""
            _hook_logger.debug("%s from %s%s", hook_name, _plugin_label(pm, impl.plugin), kind)

    return before


def _tracer_after(
    outcome: object, hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
) -> None:
    """Nothing to add after a call: pluggy's own trace logs the result."""


def _plugin_label(pm: pluggy.PluginManager, plugin: object) -> str:
    name = pm.get_name(plugin) or repr(plugin)
    for dist_plugin, dist in pm.list_plugin_distinfo():
        if dist_plugin is plugin:
            return f"{name} ({dist.project_name})"
    return name


def _failing_plugin(pm: pluggy.PluginManager, hook_name: str, exc: BaseException) -> str:
    """The plugin whose implementation of ``hook_name`` raised ``exc``, from its traceback."""
    owners = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        code = getattr(getattr(impl.function, "__func__", impl.function), "__code__", None)
        if code is not None:
            owners[code] = impl.plugin
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in owners:
            return _plugin_label(pm, owners[tb.tb_frame.f_code])
        tb = tb.tb_next
    return "a plugin"


def _owners_of(pm: pluggy.PluginManager, hook_name: str, name: str) -> list[str]:
    """The plugins whose ``hook_name`` implementation registers ``name`` (for an error).

    Asks each plugin alone, through pluggy, so only a clash pays for it.
    """
    owners = []
    plugins = pm.get_plugins()
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.hookwrapper or impl.wrapper:
            continue
        alone = pm.subset_hook_caller(hook_name, [p for p in plugins if p is not impl.plugin])
        if any(spec.name == name for specs in alone() for spec in specs or []):
            owners.append(_plugin_label(pm, impl.plugin))
    return owners


def _collect(pm: pluggy.PluginManager, hook_name: str, kind: str) -> dict[str, Any]:
    """Call a register hook through pluggy; a name registered twice is an error naming both.

    One ``pm.hook.<name>()`` call, so wrapper implementations run and hook
    tracing sees it.
    """
    try:
        results = getattr(pm.hook, hook_name)()
    except Exception as exc:
        owner = _failing_plugin(pm, hook_name, exc)
        raise PluginError(f"plugin {owner} failed in {hook_name}: {exc}") from exc
    found: dict[str, Any] = {}
    for specs in results:
        for spec in specs or []:
            if spec.name in found:
                owners = _owners_of(pm, hook_name, spec.name) or ["two plugins"]
                raise PluginError(
                    f"{kind} name {spec.name!r} is registered twice: by "
                    f"{' and by '.join(owners)}; uninstall or rename one of them"
                )
            found[spec.name] = spec
    return found


def source_specs(pm: pluggy.PluginManager | None = None) -> dict[str, SourceSpec]:
    """Every registered camera source, by name."""
    pm = pm if pm is not None else default_plugin_manager()
    return _collect(pm, "visionkit_register_sources", "source")


def adapter_specs(pm: pluggy.PluginManager | None = None) -> dict[str, AdapterSpec]:
    """Every registered output adapter, by name."""
    pm = pm if pm is not None else default_plugin_manager()
    return _collect(pm, "visionkit_register_adapters", "adapter")


def architecture_specs(pm: pluggy.PluginManager | None = None) -> dict[str, ArchitectureSpec]:
    """Every registered model architecture, by name."""
    pm = pm if pm is not None else default_plugin_manager()
    return _collect(pm, "visionkit_register_architectures", "architecture")


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
        SourceNotFoundError: no plugin accepts the URI; for a local path that
            does not exist, says "no such file or folder".
        UnknownNameError: ``source`` names no registered source.
    """
    from visionkit.sources._uri import has_scheme, is_camera_index, looks_like_glob

    pm = pm if pm is not None else default_plugin_manager()
    if source is not None:
        return get_source_spec(source, pm).open(uri, **options)
    opened = pm.hook.visionkit_open_source(uri=uri, options=options)
    if opened is None:
        path = Path(uri).expanduser()
        is_path = not (has_scheme(uri) or is_camera_index(uri) or looks_like_glob(uri))
        if is_path and not path.exists():
            raise SourceNotFoundError(
                f"{uri}: no such file or folder (relative paths start at {Path.cwd()}); "
                f"check the path"
            )
        names = ", ".join(sorted(source_specs(pm)))
        raise SourceNotFoundError(
            f"no source can open {uri!r}: give an existing image file, folder or glob, "
            f"a camera index, a video file or an http(s) URL (sources: {names})"
        )
    return opened


def list_plugins(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """Describe each registered plugin: name, version, hooks, and whether built in."""
    pm = pm if pm is not None else default_plugin_manager()
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
