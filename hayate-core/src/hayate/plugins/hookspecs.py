"""Hook specifications. A plugin is a module of ``@hookimpl`` functions named after these.

Registration hooks receive a ``register`` callback taking a component class; the class must
declare ``kind`` and ``Config``. Hooks are for registration, lifecycle notices and vetoes;
market data and orders never flow through them (they travel on the engine's streams).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["HayateSpec", "hookimpl", "hookspec"]

PROJECT = "hayate"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[type], None]


class HayateSpec:
    """All of Hayate's hooks; each one is documented in docs/plugin-hooks.md (a test checks)."""

    @hookspec
    def hayate_register_collectors(self, register: Register) -> None:
        """Register collector classes (sources of events): ``register(MyCollector)``."""

    @hookspec
    def hayate_register_states(self, register: Register) -> None:
        """Register state classes (kept up to date from events)."""

    @hookspec
    def hayate_register_inputs(self, register: Register) -> None:
        """Register input classes (read states into what a strategy sees)."""

    @hookspec
    def hayate_register_strategies(self, register: Register) -> None:
        """Register strategy (bot) classes."""

    @hookspec
    def hayate_register_executors(self, register: Register) -> None:
        """Register executor classes (carry out actions on a venue)."""

    @hookspec
    def hayate_register_commands(self, app: Any) -> None:
        """Add sub-commands to the ``hayate`` typer app (e.g. ``hayate record``)."""

    @hookspec
    def hayate_spec_loaded(self, spec: Any) -> None:
        """A bot spec was loaded and validated (read-only notice)."""

    @hookspec
    def hayate_bot_starting(self, bot: Any) -> None:
        """A bot is about to start running; ``bot`` is the engine's runtime object."""

    @hookspec
    def hayate_bot_stopped(self, bot: Any, summary: dict[str, Any]) -> None:
        """A bot stopped; ``summary`` is what goes to summary.json (may be extended)."""

    @hookspec(firstresult=True)
    def hayate_check_action(self, action: Any, context: Any) -> Any:
        """Pre-trade gate. Return None to allow, or a string (the reason) to block the action.

        The first non-None result wins. ``context`` is the bot's
        :class:`hayate.risk.RiskEngine` (its configured limits, positions, open orders, P&L
        and clock), through which a plugin can also read the runtime.
        """
