"""Hayate's error hierarchy: one base class, grouped by who has to act on the error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ComponentError",
    "ConfigError",
    "HayateError",
    "InvalidNumber",
    "PluginError",
    "ProtocolError",
    "SpecError",
    "WiringError",
]


class HayateError(Exception):
    """Base class of every error Hayate raises on purpose."""


class InvalidNumber(HayateError, ValueError):
    """A venue number that breaks its field's rules (:mod:`hayate.numbers`): not plain
    decimal text, off the instrument's grid, the wrong sign, an implausible time.

    ``reason`` names the kind of field (``price``, ``size``, ``time``, ``id``, ``value``...),
    which decoders count per reason."""

    def __init__(self, message: str, reason: str = "value") -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidNumber], tuple[str, str]]:
        return (type(self), (str(self), self.reason))


class ConfigError(HayateError):
    """The user's configuration is wrong (exit code 2)."""


class SpecError(ConfigError):
    """A bot spec has one or more problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[object], path: str | None = None) -> None:
        self.problems: list[Any] = list(problems)
        self.path = path
        lines = "\n".join(f"  {p}" for p in problems)
        where = f" in {path}" if path else ""
        super().__init__(f"{len(problems)} problem(s){where}:\n{lines}")


class WiringError(ConfigError):
    """Components reference instance ids that do not exist or do not fit together."""


class PluginError(HayateError):
    """A plugin failed to load or registered something invalid."""


class ComponentError(HayateError):
    """A component failed at run time; carries the component's instance id."""

    def __init__(self, component: str, message: str) -> None:
        self.component = component
        super().__init__(f"{component}: {message}")


class ProtocolError(HayateError):
    """A venue sent something that does not follow its protocol (counted and skipped)."""
