"""Component registry: kind -> class, with the plugin and distribution that provided it.

An entry may name its class lazily (``"package.module:Class"``, registered with
``register.lazy(kind, target)``): the module is imported the first time the class is
needed (a spec uses the kind, ``hayate components`` describes it), so the CLI starts
without importing every plugin's components.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hayate.exceptions import PluginError
from hayate.roles import ROLES, Role

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["KNOWN_COMMANDS", "KNOWN_PACKAGES", "Registry", "RegistryEntry", "did_you_mean",
           "entry_problem", "package_for_kind"]


@dataclass(frozen=True)
class RegistryEntry:
    kind: str
    role: Role
    cls_or_target: type | str
    plugin: str
    distribution: str
    version: str
    _loaded: list[type] = field(default_factory=list, compare=False, repr=False)

    def __init__(self, kind: str, role: Role, cls: type | str, plugin: str, distribution: str,
                 version: str) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "cls_or_target", cls)
        object.__setattr__(self, "plugin", plugin)
        object.__setattr__(self, "distribution", distribution)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "_loaded", [cls] if isinstance(cls, type) else [])

    @property
    def lazy(self) -> bool:
        """Registered by name and not imported yet."""
        return not self._loaded

    @property
    def cls(self) -> type:
        """The component class (imported on first use for a lazy entry; a class that
        cannot be imported or does not fit its role is a :class:`PluginError` naming the
        plugin)."""
        if self._loaded:
            return self._loaded[0]
        target = self.cls_or_target
        assert isinstance(target, str)
        module_name, _, attr = target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as e:
            raise PluginError(f"plugin {self.plugin!r} ({self.distribution}): {self.kind!r} "
                              f"cannot be loaded from {target!r}: {type(e).__name__}: {e}"
                              ) from e
        problem = entry_problem(obj, self.role, self.kind)
        if problem is not None:
            raise PluginError(f"plugin {self.plugin!r} ({self.distribution}): {problem}")
        self._loaded.append(obj)
        return obj

    @property
    def config_model(self) -> type[BaseModel]:
        model: type[BaseModel] = getattr(self.cls, "Config")  # noqa: B009 - declared by plugins
        return model

    @property
    def doc(self) -> str:
        return (self.cls.__doc__ or "").strip().splitlines()[0] if self.cls.__doc__ else ""


@dataclass
class Registry:
    entries: dict[Role, dict[str, RegistryEntry]] = field(
        default_factory=lambda: {role: {} for role in ROLES}
    )
    # kind -> every entry that claimed it, when more than one plugin did.
    duplicates: dict[tuple[Role, str], list[RegistryEntry]] = field(default_factory=dict)

    def add(self, entry: RegistryEntry) -> None:
        if not entry.lazy:
            problem = entry_problem(entry.cls, entry.role)
            if problem is not None:
                raise PluginError(problem)
        elif not entry.kind:
            raise PluginError(f"{entry.cls_or_target!r} is registered without a kind")
        role_entries = self.entries[entry.role]
        current = role_entries.get(entry.kind)
        if current is not None and current.cls_or_target is not entry.cls_or_target and \
                current.cls_or_target != entry.cls_or_target:
            self.duplicates.setdefault((entry.role, entry.kind), [current]).append(entry)
            return
        role_entries[entry.kind] = entry

    def get(self, role: Role, kind: str) -> RegistryEntry | None:
        return self.entries[role].get(kind)

    def duplicate_of(self, role: Role, kind: str) -> list[RegistryEntry] | None:
        return self.duplicates.get((role, kind))

    def kinds(self, role: Role) -> list[str]:
        return sorted(self.entries[role])

    def role_of(self, kind: str) -> Role | None:
        for role in ROLES:
            if kind in self.entries[role]:
                return role
        return None


def did_you_mean(word: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


#: Kind prefixes and CLI commands of Hayate's own distributions: what to install when a
#: spec or a command needs one that is not installed.
KNOWN_PACKAGES: dict[str, str] = {"bybit": "hayate-bybit", "paper": "hayate-paper",
                                  "mm": "hayate-strategies"}
KNOWN_COMMANDS: dict[str, str] = {"record": "hayate-bybit", "paper": "hayate-paper"}


def package_for_kind(kind: str) -> str | None:
    """The distribution that provides ``kind`` (``bybit.orders`` -> hayate-bybit), if ours."""
    return KNOWN_PACKAGES.get(kind.split(".", 1)[0]) if "." in kind else None


def entry_problem(cls: Any, role: Role, kind: str | None = None) -> str | None:
    """Why ``cls`` cannot be the component of ``role`` (named ``kind`` when registered
    lazily), or None."""
    from hayate.types import ComponentConfig, role_base_problem

    if not isinstance(cls, type):
        return f"{cls!r} is not a class"
    own = getattr(cls, "kind", None)
    if not isinstance(own, str) or not own:
        return f"{cls.__qualname__} has no 'kind' (a non-empty string)"
    if kind is not None and own != kind:
        return f"{cls.__qualname__}.kind is {own!r}, but it was registered as {kind!r}"
    problem = role_base_problem(cls, role)
    if problem is not None:
        return problem
    cfg = getattr(cls, "Config", None)
    if not (isinstance(cfg, type) and issubclass(cfg, ComponentConfig)):
        return f"{cls.__qualname__}.Config must subclass hayate.types.ComponentConfig"
    return None
