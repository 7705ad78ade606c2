"""Plugin system: pluggy hookspecs, a guarded entry-point loader and the component registry."""

from hayate.plugins.hookspecs import hookimpl, hookspec
from hayate.plugins.manager import PluginInfo, PluginManager, load_plugins
from hayate.plugins.registry import Registry, RegistryEntry

__all__ = [
    "PluginInfo",
    "PluginManager",
    "Registry",
    "RegistryEntry",
    "hookimpl",
    "hookspec",
    "load_plugins",
]
