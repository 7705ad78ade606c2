"""The five component roles, by name: what the plugin registry and the spec's tables are
keyed by. Kept apart from :mod:`hayate.types` (and pydantic) so that finding plugins and
listing commands imports nothing heavy."""

from __future__ import annotations

from typing import Literal

__all__ = ["ROLES", "SINGULAR", "Role"]

Role = Literal["collectors", "states", "inputs", "strategies", "executors"]
ROLES: tuple[Role, ...] = ("collectors", "states", "inputs", "strategies", "executors")
SINGULAR: dict[str, str] = {
    "collectors": "collector",
    "states": "state",
    "inputs": "input",
    "strategies": "strategy",
    "executors": "executor",
}
