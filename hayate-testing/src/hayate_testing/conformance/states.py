"""State and input contracts: every event type taken without raising, the same result for
the same events, and a place in a running bot."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, ClassVar

import msgspec

from hayate.actions import Action
from hayate.clock import SimClock
from hayate.context import BotContext
from hayate.events import Event
from hayate.plugins.manager import PluginManager
from hayate.types import Input, Role, State
from hayate_testing.conformance.component import ComponentConformance
from hayate_testing.event_script import every_event_type, script_instrument, with_actions
from hayate_testing.harness import run_spec_dict

__all__ = ["InputConformance", "StateConformance"]


def _feed(clock: SimClock, states: Iterable[State], script: list[Event | Action],
          after: Any = None) -> None:
    """Hand each item to every state as the engine would: events of the types a state
    declares (``event_types``), at their time on the clock; actions to ``on_action``."""
    states = list(states)
    for item in script:
        if isinstance(item, Action):
            for st in states:
                st.on_action(item)
        else:
            clock.advance(max(clock.now(), item.time))
            for st in states:
                wanted = type(st).event_types
                if wanted is None or isinstance(item, wanted):
                    st.apply(item)
        if after is not None:
            after(item)


class StateConformance(ComponentConformance):
    """A state applies every event type (market and private, ``BookInvalid``,
    ``StreamGap``, symbols without an instrument, event classes it has never heard of) and
    the bot's own actions without raising; it is deterministic (two instances fed the same
    events give the same :meth:`observe`, by default ``summary()``), its summary is
    JSON-ready, and it runs in a bot as a source's and an executor's listener.

    Override :meth:`observe` when ``summary()`` does not show what the state keeps.
    """

    role: ClassVar[Role] = "states"
    wiring: ClassVar[dict[str, Any]] = {"sources": ["market", "venue"]}
    symbol: ClassVar[str] = "TESTUSDT"

    def observe(self, state: Any) -> Any:
        """What two instances fed the same events must agree on."""
        return state.summary()

    def fed(self, plugins: PluginManager) -> Any:
        """A fresh instance, fed the whole script of every event type and action."""
        clock = SimClock()
        bot = self.bot_context(clock)
        bot.instruments.add(script_instrument(self.symbol))
        state = self.build(plugins, bot, "state")
        assert isinstance(state, State), f"{self.kind} is not a hayate.State"
        _feed(clock, [state], with_actions(every_event_type(self.symbol), self.symbol))
        return state

    def test_applies_every_event_type(self, plugins: PluginManager) -> None:
        self.fed(plugins)

    def test_is_deterministic(self, plugins: PluginManager) -> None:
        a, b = self.fed(plugins), self.fed(self.make_plugins())
        assert self.observe(a) == self.observe(b), "the same events gave different states"

    def test_summary_is_json_ready(self, plugins: PluginManager) -> None:
        summary = self.fed(plugins).summary()
        msgspec.json.encode(dict(summary))  # summary.json is written with msgspec

    def test_runs_in_a_bot(self, plugins: PluginManager) -> None:
        spec = {
            "collectors": {"market": {"type": "testing.every_event", "symbol": self.symbol,
                                      "repeat": 3}},
            "states": {"state": {"type": self.kind, **copy.deepcopy(self.config),
                                 "sources": ["market", "venue"]}},
            "strategies": {"s": {"type": "testing.quoter", "inputs": ["market"],
                                 "symbol": self.symbol, "every": 3}},
            "executors": {"venue": {"type": "testing.recorder"}},
        }
        result, _ = run_spec_dict(spec, plugins)
        assert result.exit_code == 0, result.exit_reason


class InputConformance(ComponentConformance):
    """An input binds to its states and ``read()`` works before any event and after each
    of every event type; a strategy reads it in a running bot.

    ``states`` are the state tables it is bound to (by instance id); by default the
    engine's book and account states.
    """

    role: ClassVar[Role] = "inputs"
    states: ClassVar[dict[str, dict[str, Any]]] = {"books": {"type": "core.orderbook"},
                                                  "account": {"type": "core.account"}}
    symbol: ClassVar[str] = "TESTUSDT"

    @property
    def wiring(self) -> dict[str, Any]:  # type: ignore[override]
        return {"states": list(self.states)}

    def _states(self, plugins: PluginManager, bot: BotContext) -> dict[str, State]:
        from hayate.context import ComponentContext

        out: dict[str, State] = {}
        for sid, table in self.states.items():
            entry = plugins.registry.get("states", table["type"])
            assert entry is not None, f"state kind {table['type']!r} is not registered"
            cfg = entry.config_model.model_validate(copy.deepcopy(table))
            st = entry.cls(sid, cfg, ComponentContext(bot, sid, table["type"], "states"))
            assert isinstance(st, State)
            out[sid] = st
        return out

    def bound(self, plugins: PluginManager) -> tuple[Any, dict[str, State], SimClock]:
        clock = SimClock()
        bot = self.bot_context(clock)
        bot.instruments.add(script_instrument(self.symbol))
        states = self._states(plugins, bot)
        inp = self.build(plugins, bot, "input")
        assert isinstance(inp, Input), f"{self.kind} is not a hayate.Input"
        inp.bind(states)
        return inp, states, clock

    def test_reads_before_any_event(self, plugins: PluginManager) -> None:
        inp, _, _ = self.bound(plugins)
        inp.read()

    def test_reads_after_every_event_type(self, plugins: PluginManager) -> None:
        inp, states, clock = self.bound(plugins)
        _feed(clock, states.values(), with_actions(every_event_type(self.symbol), self.symbol),
              after=lambda _item: inp.read())

    def test_feeds_a_strategy_in_a_bot(self, plugins: PluginManager) -> None:
        sources = ["market", "venue"]
        spec = {
            "collectors": {"market": {"type": "testing.every_event", "symbol": self.symbol,
                                      "repeat": 3}},
            "states": {sid: {**copy.deepcopy(t), "sources": sources}
                       for sid, t in self.states.items()},
            "inputs": {"input": {"type": self.kind, **copy.deepcopy(self.config),
                                 "states": list(self.states)}},
            "strategies": {"s": {"type": "testing.quoter", "inputs": ["input"],
                                 "symbol": self.symbol, "every": 3}},
            "executors": {"venue": {"type": "testing.recorder"}},
        }
        result, rt = run_spec_dict(spec, plugins)
        assert result.exit_code == 0, result.exit_reason
        assert rt.strategies["s"].n > 0, "the strategy heard nothing"
