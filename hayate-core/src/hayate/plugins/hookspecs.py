"""Hook specifications. A plugin is a module of ``@hookimpl`` functions named after these.

Registration hooks receive a ``register`` callback taking a component class; the class must
subclass its role's base class in :mod:`hayate.types` and declare ``kind`` and ``Config``.
Hooks are for registration, lifecycle notices and vetoes; market data and orders never
flow through them (they travel on the engine's streams). A plugin that implements a hook
not specified here (a misspelt name) fails to load, with the name of the hook it meant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import typer

    from hayate.actions import Action
    from hayate.risk.engine import RiskEngine
    from hayate.spec.loader import LoadedSpec
    from hayate.types import Component, RunningBot

__all__ = ["HOOK_NAMES", "HayateSpec", "Register", "hookimpl", "hookspec"]

PROJECT = "hayate"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

class Register(Protocol):
    """What registration hooks receive: ``register(MyCollector)`` adds one component class
    under its ``kind``; ``register.lazy("myvenue.public", "hayate_myvenue.feed:MyFeed")``
    names it without importing it, so ``hayate --help`` and specs that do not use the kind
    never import its module (the class is checked when it is first loaded)."""

    def __call__(self, cls: type[Component]) -> None: ...

    def lazy(self, kind: str, target: str) -> None: ...


class HayateSpec:
    """All of Hayate's hooks; each one is documented in docs/plugin-hooks.md (a test checks)."""

    @hookspec
    def hayate_register_collectors(self, register: Register) -> None:
        """Register collector classes (sources of events): ``register(MyCollector)``.

        Called once per plugin when plugins load, before any spec is read. Each class
        subclasses :class:`hayate.types.Collector`; a live one implements ``run(emit)``, a
        simulated one sets ``simulated = True`` (or ``runs_simulated(config)``) and
        implements ``events()``. A kind registered twice is an error naming both plugins.
        """

    @hookspec
    def hayate_register_states(self, register: Register) -> None:
        """Register state classes (:class:`hayate.types.State`): ``apply(event)`` keeps them
        current, the optional ``on_action(action)`` sees the bot's own actions. Called once
        per plugin when plugins load."""

    @hookspec
    def hayate_register_inputs(self, register: Register) -> None:
        """Register input classes (:class:`hayate.types.Input`): ``bind(states)`` once,
        ``read()`` for each event a strategy hears. Called once per plugin when plugins
        load."""

    @hookspec
    def hayate_register_strategies(self, register: Register) -> None:
        """Register strategy classes (:class:`hayate.types.Strategy`, or any class with
        ``on_event(event, view) -> actions``). Called once per plugin when plugins load."""

    @hookspec
    def hayate_register_executors(self, register: Register) -> None:
        """Register executor classes (:class:`hayate.types.Executor`): ``submit(actions)``,
        ``cancel_all_open()``, optionally ``run(emit)`` for background I/O and private
        events, and the capability flags their venue needs (``live_trading``,
        ``needs_live_flag(config)``, ``wraps_source_field``, ``restore_from_journal``).
        Called once per plugin when plugins load."""

    @hookspec
    def hayate_register_commands(self, app: typer.Typer) -> None:
        """Add sub-commands to the ``hayate`` typer application (``@app.command("record")``).

        Called when the CLI starts, once per plugin; a plugin whose hook raises loses its
        commands (the error is logged) and every other command still works. Only CLI code
        prints; everything else logs."""

    @hookspec
    def hayate_spec_loaded(self, spec: LoadedSpec) -> None:
        """A bot spec was loaded and validated; ``spec`` is read-only.

        Called by ``hayate run`` (and by sweeps, per combination) before the bot is built.
        Use it to check rules of your own across components: raising
        :class:`hayate.exceptions.ConfigError` makes ``hayate run`` refuse the spec with
        your message (exit 2)."""

    @hookspec
    def hayate_bot_starting(self, bot: RunningBot) -> None:
        """A bot is about to run: every component is set up, no event has flowed yet.

        ``bot`` is the engine's runtime (:class:`hayate.types.RunningBot`): register
        observers (``bot.observe``), work to await before the first event
        (``bot.before_run``) or to run beside the bot (``bot.in_background``), and keep
        per-bot data in ``bot.stash`` under a :class:`hayate.stash.StashKey` of your own. An
        exception stops the bot before it starts."""

    @hookspec
    def hayate_bot_stopped(self, bot: RunningBot, summary: dict[str, Any]) -> None:
        """A bot stopped and its teardown finished (after a normal end, an error or a signal).

        ``summary`` is the dict about to be written to ``summary.json``: add your figures
        to it in place. An exception here is logged and does not change the exit code."""

    @hookspec(firstresult=True)
    def hayate_check_action(self, action: Action, context: RiskEngine) -> str | None:
        """Pre-trade gate, called for every action before it reaches an executor.

        Return None to allow the action, or a short string (the reason) to block it; the
        first non-None result wins and blocks are counted by reason in ``summary.json``
        (``risk_blocks``). ``context`` is the bot's :class:`hayate.risk.RiskEngine` (its
        configured limits, positions, open orders, P&L and clock). Called on the hot path:
        keep it to a few microseconds. Core's risk engine runs last (``trylast``)."""


HOOK_NAMES: frozenset[str] = frozenset(
    name for name in vars(HayateSpec) if name.startswith("hayate_"))
"""Every hook a plugin may implement."""
