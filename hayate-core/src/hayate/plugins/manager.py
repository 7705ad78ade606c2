"""Guarded plugin loading over the ``hayate`` entry-point group.

Each plugin is loaded and asked to register its components on its own: a plugin that fails
to import, implements a hook Hayate does not specify (a misspelt name), or whose hook raises,
is recorded with its error (``hayate plugins`` shows it) and does not stop any other plugin,
nor any bot that does not use its kinds. Nothing is loaded at import time; callers build a
:class:`PluginManager` when they need one.

Environment:
- ``HAYATE_PLUGINS``: comma-separated allow-list of entry-point names (``core`` is always
  kept unless disabled explicitly).
- ``HAYATE_DISABLE_PLUGINS``: comma-separated entry-point names never to load.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from hayate.exceptions import PluginError
from hayate.plugins.discovery import entry_points
from hayate.plugins.hookspecs import HOOK_NAMES, PROJECT, HayateSpec
from hayate.plugins.registry import Registry, RegistryEntry, did_you_mean
from hayate.roles import ROLES, SINGULAR, Role

__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "PluginManager", "load_plugins"]

ENTRY_POINT_GROUP = "hayate"
log = logging.getLogger("hayate.plugins")

_ROLE_HOOKS: dict[Role, str] = {
    "collectors": "hayate_register_collectors",
    "states": "hayate_register_states",
    "inputs": "hayate_register_inputs",
    "strategies": "hayate_register_strategies",
    "executors": "hayate_register_executors",
}


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    kinds: dict[Role, list[str]] = field(default_factory=lambda: {r: [] for r in ROLES})
    error: str | None = None
    traceback: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "kinds": {role: sorted(kinds) for role, kinds in self.kinds.items()},
            "error": self.error,
        }


def _split_env(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


class PluginManager:
    """Owns a pluggy manager, the registry built from it, and what went wrong per plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(HayateSpec)
        self.registry = Registry()
        self.plugins: dict[str, PluginInfo] = {}
        self._modules: dict[str, object] = {}

    # -- loading -------------------------------------------------------------------------------
    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        allow = _split_env("HAYATE_PLUGINS")
        deny = _split_env("HAYATE_DISABLE_PLUGINS") or set()
        for ep in sorted(entry_points(group), key=lambda e: e.name):
            if ep.name in deny:
                continue
            if allow is not None and ep.name not in allow and ep.name != "core":
                continue
            self.add_plugin(ep.name, loader=ep.load, distribution=ep.distribution,
                            version=ep.version, module=ep.value)

    def add_plugin(
        self,
        name: str,
        *,
        loader: Callable[[], object] | None = None,
        plugin: object | None = None,
        distribution: str = "(local)",
        version: str = "0",
        module: str = "",
    ) -> PluginInfo:
        """Load one plugin (from ``loader()`` or an already imported ``plugin``) and register."""
        if name in self.plugins:
            raise PluginError(f"plugin name {name!r} is used twice")
        info = PluginInfo(name=name, distribution=distribution, version=version,
                          module=module or getattr(plugin, "__name__", name))
        self.plugins[name] = info
        try:
            obj = plugin if plugin is not None else loader() if loader else None
            if obj is None:
                raise PluginError("nothing to load")
            self.pm.register(obj, name=name)
            problem = self._hook_problem(obj)
            if problem is not None:
                self.pm.unregister(obj)
                raise PluginError(problem)
            self._modules[name] = obj
        except Exception as e:  # a broken third-party plugin must not break Hayate
            info.error = f"{type(e).__name__}: {e}"
            info.traceback = traceback.format_exc()
            log.warning("plugin %s (%s) failed to load: %s", name, distribution, info.error)
            return info
        self._register_components(name, obj, info)
        return info

    def _hook_problem(self, obj: object) -> str | None:
        """What is wrong with ``obj``'s hook implementations: a hook Hayate does not specify
        (pluggy would ignore it: a misspelt name never runs), or a function named like a hook
        that is not marked ``@hookimpl``."""
        problems = []
        for caller in self.pm.get_hookcallers(obj) or ():
            if not caller.has_spec():
                guess = did_you_mean(caller.name, sorted(HOOK_NAMES))
                problems.append(f"{caller.name} is not a Hayate hook"
                                + (f" (did you mean {guess}?)" if guess else ""))
        for attr in sorted(HOOK_NAMES):
            fn = getattr(obj, attr, None)
            if (inspect.isfunction(fn) or inspect.ismethod(fn)) and \
                    self.pm.parse_hookimpl_opts(obj, attr) is None:
                problems.append(f"{attr} is not marked @hookimpl (from hayate.plugins import "
                                "hookimpl), so it would never be called")
        return "; ".join(problems) if problems else None

    def _register_components(self, name: str, obj: object, info: PluginInfo) -> None:
        others = [p for n, p in self._modules.items() if n != name]
        for role, hook_name in _ROLE_HOOKS.items():
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            register = _Registrar(self.registry, role, name, info)
            added = register.added
            try:
                caller(register=register)
            except Exception as e:
                info.error = f"{hook_name} failed: {type(e).__name__}: {e}"
                info.traceback = traceback.format_exc()
                log.warning("plugin %s: %s", name, info.error)
                # Withdraw what this plugin registered under this role: it is half-done.
                for entry in added:
                    if self.registry.entries[role].get(entry.kind) is entry:
                        del self.registry.entries[role][entry.kind]
                continue
            info.kinds[role].extend(e.kind for e in added)
        for (role, kind), entries in self.registry.duplicates.items():
            if any(e.plugin == name for e in entries):
                names = " and ".join(f"{e.distribution} (plugin {e.plugin!r})" for e in entries)
                msg = f"duplicate {SINGULAR[role]} kind {kind!r} registered by {names}"
                if info.error is None:
                    info.error = msg
                log.warning(msg)

    # -- hooks -----------------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        return self.pm.hook

    def register_commands(self, app: Any) -> list[tuple[str, str]]:
        """Let every plugin add CLI commands; returns (plugin, error) for those that failed."""
        failures = []
        for name, _obj in list(self._modules.items()):
            others = [p for n, p in self._modules.items() if n != name]
            caller = self.pm.subset_hook_caller("hayate_register_commands", remove_plugins=others)
            try:
                caller(app=app)
            except Exception as e:
                failures.append((name, f"{type(e).__name__}: {e}"))
                log.warning("plugin %s failed to register commands: %s", name, e)
        return failures

    def info_list(self) -> list[PluginInfo]:
        return [self.plugins[n] for n in sorted(self.plugins)]

    def load_error_hint(self) -> str | None:
        """A sentence naming plugins that failed to load (they may own an unknown kind)."""
        broken = [p for p in self.plugins.values() if p.error and not any(p.kinds.values())]
        if not broken:
            return None
        return "; ".join(f"plugin {p.name!r} ({p.distribution}) failed to load: {p.error}"
                         for p in broken)


class _Registrar:
    """The ``register`` a plugin's registration hook receives (see ``hookspecs.Register``)."""

    def __init__(self, registry: Registry, role: Role, plugin: str, info: PluginInfo) -> None:
        self.registry = registry
        self.role = role
        self.plugin = plugin
        self.info = info
        self.added: list[RegistryEntry] = []

    def _add(self, kind: str, cls: type | str) -> None:
        entry = RegistryEntry(kind=kind, role=self.role, cls=cls, plugin=self.plugin,
                              distribution=self.info.distribution, version=self.info.version)
        self.registry.add(entry)
        self.added.append(entry)

    def __call__(self, cls: type) -> None:
        self._add(getattr(cls, "kind", ""), cls)

    def lazy(self, kind: str, target: str) -> None:
        if not isinstance(kind, str) or not kind:
            raise PluginError(f"register.lazy: a kind is required for {target!r}")
        if not isinstance(target, str) or ":" not in target:
            raise PluginError(f"register.lazy({kind!r}, ...): give the class as "
                              f"'package.module:Class', not {target!r}")
        self._add(kind, target)


def load_plugins(extra: Iterable[tuple[str, object]] = (), *, entry_points: bool = True
                 ) -> PluginManager:
    """Build a manager from installed entry points plus ``extra`` (name, module) pairs."""
    manager = PluginManager()
    if entry_points:
        manager.load_entry_points()
    for name, plugin in extra:
        if isinstance(plugin, str):
            manager.add_plugin(name, loader=_importer(plugin), module=plugin)
        elif isinstance(plugin, ModuleType) or plugin is not None:
            manager.add_plugin(name, plugin=plugin)
    return manager


def _importer(module: str) -> Callable[[], object]:
    def load() -> object:
        return importlib.import_module(module)
    return load
