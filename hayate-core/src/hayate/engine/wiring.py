"""Wiring: a validated spec's components built and connected by instance id.

Owns what is decided once, before anything runs: one instance per spec table (each with its
:class:`ComponentContext`), the default book/account states and view for strategies that
name sources, which states and strategies hear each source (:class:`Route`), what each
strategy reads and where its actions go (:class:`StrategySlot`), which executor wraps
which collector (the paper exchange around its market data), and the shadow twins (built
like components but kept apart: no route, no strategy, no wrapping; see
:mod:`hayate.shadow`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hayate.context import BotContext, ComponentContext
from hayate.events import Event
from hayate.exceptions import WiringError
from hayate.plugins.manager import PluginManager
from hayate.spec.loader import LoadedSpec, SpecComponent, shadowed_executor, wrapped_field
from hayate.types import Component, Executor, Input, State

__all__ = ["Route", "StrategySlot", "Wiring"]

DEFAULT_BOOK_STATE = "core.orderbook"
DEFAULT_ACCOUNT_STATE = "core.account"
DEFAULT_INPUT = "core.market"


@dataclass
class Route:
    """Who hears the events of one source.

    States may declare the event types they care about (``event_types``); the appliers for
    each event type are computed once, so an account state never pays for book updates.
    """

    appliers: list[Callable[[Event], None]] = field(default_factory=list)
    strategies: list[StrategySlot] = field(default_factory=list)
    by_type: dict[type, list[Callable[[Event], None]]] = field(default_factory=dict)

    def appliers_for(self, event_type: type) -> list[Callable[[Event], None]]:
        found = []
        for apply in self.appliers:
            wanted = getattr(apply, "event_types", None)
            if wanted is None:
                wanted = getattr(getattr(apply, "__self__", None), "event_types", None)
            if wanted is None or issubclass(event_type, tuple(wanted)):
                found.append(apply)
        self.by_type[event_type] = found
        return found


@dataclass
class StrategySlot:
    """One strategy with what it reads, where its actions go and who tracks them."""

    strategy: Any
    input: Input
    executor: Executor
    action_states: list[State]
    symbols: frozenset[str] | None


class Wiring:
    """Builds every component of ``spec`` and connects them (see the module docstring)."""

    def __init__(self, spec: LoadedSpec, plugins: PluginManager, bot: BotContext) -> None:
        self.spec = spec
        self.plugins = plugins
        self.bot = bot
        self.components: dict[str, Component] = {}
        self.contexts: dict[str, ComponentContext] = {}
        self.roles: dict[str, str] = {}
        self.routes: dict[str, Route] = {}
        self.slots: dict[str, StrategySlot] = {}
        self.wrappers: dict[str, Any] = {}  # wrapped collector id -> its wrapping executor
        self.shadows: dict[str, Executor] = {}  # shadow twins by id (no part of the bot)
        self.shadow_contexts: dict[str, ComponentContext] = {}
        self._build()

    def _make(self, comp: SpecComponent) -> Component:
        ctx = ComponentContext(self.bot, comp.id, comp.kind, comp.role)
        # Loggers follow the module of the component's class, so HAYATE_LOG=hayate_bybit=debug
        # reaches the Bybit components.
        ctx.log = logging.getLogger(f"{comp.cls.__module__}.{comp.id}")
        instance = comp.cls(comp.id, comp.config, ctx)
        self.components[comp.id] = instance
        self.contexts[comp.id] = ctx
        self.roles[comp.id] = comp.role
        return instance

    def _make_shadow(self, comp: SpecComponent) -> None:
        ctx = ComponentContext(self.bot, comp.id, comp.kind, comp.role)
        ctx.log = logging.getLogger(f"{comp.cls.__module__}.{comp.id}")
        twin = comp.cls(comp.id, comp.config, ctx)
        assert isinstance(twin, Executor)
        self.shadows[comp.id] = twin
        self.shadow_contexts[comp.id] = ctx

    def _make_default(self, role: str, kind: str, id: str, **config: Any) -> Component:
        entry = self.plugins.registry.get(role, kind)  # type: ignore[arg-type]
        if entry is None:
            raise WiringError(f"the default {role[:-1]} {kind!r} is not registered "
                              "(is the 'core' plugin disabled?)")
        cfg = entry.config_model.model_validate({"type": kind, **config})
        return self._make(SpecComponent(id=id, role=role, kind=kind, entry=entry,  # type: ignore[arg-type]
                                        config=cfg))

    def _build(self) -> None:
        spec = self.spec
        for comp in spec.all_components():
            if comp.role == "executors" and shadowed_executor(comp):
                self._make_shadow(comp)
            else:
                self._make(comp)
        executors = {eid: comp for eid, comp in spec.components["executors"].items()
                     if eid not in self.shadows}
        sources = {**spec.components["collectors"], **executors}
        for sid in sources:
            self.routes[sid] = Route()

        # Explicit states subscribe to their sources.
        for sid, comp in spec.components["states"].items():
            state = self.components[sid]
            assert isinstance(state, State)
            for src in comp.config.sources:
                self.routes[src].appliers.append(state.apply)
        # Explicit inputs see their states.
        for iid, comp in spec.components["inputs"].items():
            inp = self.components[iid]
            assert isinstance(inp, Input)
            inp.bind({s: self.components[s] for s in comp.config.states})  # type: ignore[misc]

        defaults: dict[tuple[str, ...], tuple[Input, list[State], list[str]]] = {}
        view_input: Input | None
        for gid, comp in spec.components["strategies"].items():
            strat = self.components[gid]
            names = list(comp.config.inputs)
            explicit = [n for n in names if n in spec.components["inputs"]]
            source_names = [n for n in names if n in sources]
            ex_id = comp.config.executor or next(iter(executors))
            executor = self.components[ex_id]
            assert isinstance(executor, Executor)
            if source_names:
                # The strategy's own executor always feeds its view (its fills, its orders).
                key = tuple(sorted({*source_names, ex_id}))
                if key not in defaults:
                    suffix = "+".join(key)
                    books = self._make_default("states", DEFAULT_BOOK_STATE, f"books:{suffix}",
                                               sources=list(key))
                    account = self._make_default("states", DEFAULT_ACCOUNT_STATE,
                                                 f"account:{suffix}", sources=list(key))
                    view = self._make_default("inputs", DEFAULT_INPUT, f"view:{suffix}",
                                              states=[books.id, account.id])
                    assert isinstance(view, Input)
                    assert isinstance(books, State) and isinstance(account, State)
                    view.bind({books.id: books, account.id: account})
                    for src in key:
                        self.routes[src].appliers.append(books.apply)
                        self.routes[src].appliers.append(account.apply)
                    defaults[key] = (view, [books, account], list(key))
                view_input, default_states, _ = defaults[key]
            else:
                default_states = []
                view_input = None
            if explicit:
                if len(explicit) > 1 or view_input is not None:
                    raise WiringError(f"strategy {gid!r}: give one input, or sources only")
                chosen = self.components[explicit[0]]
                assert isinstance(chosen, Input)
                view_input = chosen
            if view_input is None:
                raise WiringError(f"strategy {gid!r} has no input")
            # States that track the bot's own orders hear its actions.
            action_states = [s for s in default_states if hasattr(s, "on_action")]
            for st_id, st_comp in spec.components["states"].items():
                if ex_id in st_comp.config.sources:
                    action_states.append(self.components[st_id])  # type: ignore[arg-type]
            symbols = getattr(strat, "symbols", None)
            slot = StrategySlot(strategy=strat, input=view_input, executor=executor,
                                action_states=action_states,
                                symbols=frozenset(symbols) if symbols is not None else None)
            self.slots[gid] = slot
            input_sources = {*source_names, ex_id}
            if explicit:
                for st_id in spec.components["inputs"][explicit[0]].config.states:
                    input_sources.update(spec.components["states"][st_id].config.sources)
            for src in sorted(input_sources):
                self.routes[src].strategies.append(slot)

        # Wrapped collectors deliver through their wrapper; make sure wrappers are wired.
        for eid, comp in executors.items():
            field_name = wrapped_field(comp)
            if field_name and getattr(comp.config, field_name, None):
                self.wrappers[getattr(comp.config, field_name)] = self.components[eid]
