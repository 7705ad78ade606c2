"""Component registry: kind -> class, with the plugin and distribution that provided it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from pydantic import BaseModel

from hayate.exceptions import PluginError
from hayate.types import ROLES, ComponentConfig, Role, role_base_problem

__all__ = ["KNOWN_COMMANDS", "KNOWN_PACKAGES", "Registry", "RegistryEntry", "did_you_mean",
           "package_for_kind"]


@dataclass(frozen=True)
class RegistryEntry:
    kind: str
    role: Role
    cls: type
    plugin: str
    distribution: str
    version: str

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
        kind = getattr(entry.cls, "kind", None)
        if not isinstance(kind, str) or not kind:
            raise PluginError(f"{entry.cls.__qualname__} has no 'kind' (a non-empty string)")
        problem = role_base_problem(entry.cls, entry.role)
        if problem is not None:
            raise PluginError(problem)
        cfg = getattr(entry.cls, "Config", None)
        if not (isinstance(cfg, type) and issubclass(cfg, ComponentConfig)):
            raise PluginError(
                f"{entry.cls.__qualname__}.Config must subclass hayate.types.ComponentConfig"
            )
        role_entries = self.entries[entry.role]
        current = role_entries.get(entry.kind)
        if current is not None and current.cls is not entry.cls:
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
