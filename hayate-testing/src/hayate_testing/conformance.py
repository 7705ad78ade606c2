"""Conformance suites: the contracts every Hayate component must honour.

A plugin's tests subclass a suite and fill in a few attributes; pytest then runs every
check against the plugin's component::

    from hayate_testing.conformance import CollectorConformance

    class TestMyFeed(CollectorConformance):
        plugin = "hayate_myvenue.plugin"
        kind = "myvenue.replay"
        config = {"path": "tests/data/sample.jsonl"}

The suites use only public behaviour (configs, events, actions, summaries), so they hold
for any implementation.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from hayate.actions import CancelOrder, PlaceOrder
from hayate.events import Event, OrderStatus, OrderUpdate
from hayate.plugins.manager import PluginManager
from hayate.types import ROLES, Executor, Role
from hayate_testing.components import CountingState, Recorder
from hayate_testing.harness import make_plugins, run_spec_dict

__all__ = ["CollectorConformance", "ComponentConformance", "ExecutorConformance",
           "SimulatedCollectorConformance", "StrategyConformance"]


class ComponentConformance:
    """Checks shared by every role. Subclasses set ``plugin``, ``kind`` and ``config``."""

    plugin: ClassVar[str] = ""  # the plugin module under test ("" for the test kit's own fakes)
    kind: ClassVar[str]
    role: ClassVar[Role]
    config: ClassVar[dict[str, Any]] = {}
    wiring: ClassVar[dict[str, Any]] = {}  # keys the role needs to validate (e.g. inputs)

    @pytest.fixture
    def plugins(self) -> PluginManager:
        return make_plugins([self.plugin] if self.plugin else [])

    def entry(self, plugins: PluginManager) -> Any:
        e = plugins.registry.get(self.role, self.kind)
        assert e is not None, f"{self.kind!r} is not registered as one of the {self.role}"
        return e

    def test_registered_under_its_role(self, plugins: PluginManager) -> None:
        self.entry(plugins)
        others = [r for r in ROLES if r != self.role and plugins.registry.get(r, self.kind)]
        assert not others, f"{self.kind!r} is also registered as {others}"

    def test_has_a_one_line_description(self, plugins: PluginManager) -> None:
        assert self.entry(plugins).doc, f"{self.kind}: give the class a docstring"

    def test_config_accepts_the_example(self, plugins: PluginManager) -> None:
        self.entry(plugins).config_model.model_validate({"type": self.kind, **self.wiring, **self.config})

    def test_config_rejects_unknown_keys(self, plugins: PluginManager) -> None:
        with pytest.raises(ValidationError):
            self.entry(plugins).config_model.model_validate(
                {"type": self.kind, **self.wiring, **self.config, "no_such_option": 1})

    def test_config_is_frozen(self, plugins: PluginManager) -> None:
        cfg = self.entry(plugins).config_model.model_validate(
            {"type": self.kind, **self.wiring, **self.config})
        with pytest.raises(ValidationError):
            cfg.type = "other"


class CollectorConformance(ComponentConformance):
    """Checks for any collector (configuration and registration)."""

    role: ClassVar[Role] = "collectors"


class SimulatedCollectorConformance(CollectorConformance):
    """A simulated collector drives a bot to a clean end, in time order, deterministically."""

    def _spec(self) -> dict[str, Any]:
        return {
            "collectors": {"src": {"type": self.kind, **copy.deepcopy(self.config)}},
            "states": {"seen": {"type": "testing.count", "sources": ["src"]}},
            "strategies": {"s": {"type": "testing.quoter", "inputs": ["src"], "mode": "noop"}},
            "executors": {"x": {"type": "testing.recorder"}},
        }

    def test_is_simulated_as_configured(self, plugins: PluginManager) -> None:
        from hayate.spec.loader import parse_spec

        spec = parse_spec(self._spec(), plugins.registry)
        from hayate.spec.loader import is_simulated

        assert is_simulated(spec.components["collectors"]["src"]), (
            "set simulated = True or a runs_simulated(config) classmethod")

    def test_run_ends_cleanly(self, plugins: PluginManager) -> None:
        result, rt = run_spec_dict(self._spec(), plugins)
        assert result.exit_code == 0, result.exit_reason
        assert result.exit_reason == "end of data"
        seen = rt.components["seen"]
        assert isinstance(seen, CountingState)
        assert seen.n > 0

    def test_events_are_time_ordered(self, plugins: PluginManager) -> None:
        times = [e.recv_ts or e.ts for e in self._collect(plugins)]
        assert times, "no events"
        assert times == sorted(times), "events() must be time-ordered"

    def test_events_are_deterministic(self, plugins: PluginManager) -> None:
        again = make_plugins([self.plugin] if self.plugin else [])
        assert self._collect(plugins) == self._collect(again)

    def _collect(self, plugins: PluginManager) -> list[Event]:
        import anyio

        from hayate.clock import SimClock
        from hayate.context import BotContext, ClientIdFactory, ComponentContext

        entry = self.entry(plugins)
        cfg = entry.config_model.model_validate({"type": self.kind, **self.config})
        bot = BotContext(name="conformance", clock=SimClock(), seed=0, out_dir=None,
                         mode="paper", client_ids=ClientIdFactory("c"))
        collector = entry.cls("src", cfg, ComponentContext(bot, "src", self.kind, "collectors"))
        anyio.run(collector.setup, backend="asyncio")
        return list(collector.events())


class ExecutorConformance(ComponentConformance):
    """An executor acknowledges orders by client id and leaves nothing open at exit.

    ``symbol``, ``price`` and ``qty`` must describe an order the executor accepts and that
    rests (does not fill at once); ``source_config`` gives a simulated market collector when
    the executor wraps one (``source`` is then filled in).
    """

    role: ClassVar[Role] = "executors"
    symbol: ClassVar[str] = "TESTUSDT"
    price: ClassVar[Decimal] = Decimal("90.0")
    qty: ClassVar[Decimal] = Decimal("0.001")
    source_config: ClassVar[dict[str, Any]] = {"type": "testing.ticks", "count": 200}

    def _run(self, plugins: PluginManager) -> tuple[Any, Any]:
        ex_cfg = {"type": self.kind, **copy.deepcopy(self.config)}
        entry = self.entry(plugins)
        wrap_field = entry.cls.wraps_source_field if issubclass(entry.cls, Executor) else None
        if wrap_field:
            ex_cfg[wrap_field] = "market"
        spec = {
            "collectors": {"market": copy.deepcopy(self.source_config)},
            "strategies": {"probe": {"type": "testing.probe", "inputs": ["market"],
                                     "symbol": self.symbol, "price": str(self.price),
                                     "qty": str(self.qty)}},
            "executors": {"venue": ex_cfg},
        }
        return run_spec_dict(spec, plugins)

    def test_orders_are_acknowledged_by_client_id(self, plugins: PluginManager) -> None:
        result, rt = self._run(plugins)
        assert result.exit_code == 0, result.exit_reason
        probe = rt.components["probe"]
        updates: list[OrderUpdate] = probe.updates
        placed = probe.placed
        assert placed, "the probe placed no order"
        by_cid = {u.client_id for u in updates}
        assert placed[0] in by_cid, "no order update carried the client id of the order"
        first = next(u for u in updates if u.client_id == placed[0])
        assert first.status in (OrderStatus.NEW, OrderStatus.REJECTED, OrderStatus.FILLED,
                                OrderStatus.PARTIALLY_FILLED)

    def test_cancel_is_confirmed(self, plugins: PluginManager) -> None:
        _, rt = self._run(plugins)
        probe = rt.components["probe"]
        cancelled = [u for u in probe.updates if u.client_id == probe.placed[0]
                     and u.status is OrderStatus.CANCELLED]
        assert cancelled, "cancelling a resting order produced no Cancelled update"

    def test_nothing_open_after_teardown(self, plugins: PluginManager) -> None:
        _, rt = self._run(plugins)
        account = next(c for cid, c in rt.components.items() if cid.startswith("account:"))
        assert not [o for o in account.orders.open_orders()
                    if o.status not in (OrderStatus.PENDING_CANCEL,)], \
            "orders left open after the run"


class StrategyConformance(ComponentConformance):
    """A strategy survives every event type and only emits orders on the tick grid."""

    role: ClassVar[Role] = "strategies"
    wiring: ClassVar[dict[str, Any]] = {"inputs": ["market"]}
    source_config: ClassVar[dict[str, Any]] = {"type": "testing.ticks", "count": 2000}

    def test_runs_against_a_recording_venue(self, plugins: PluginManager) -> None:
        spec = {
            "collectors": {"market": copy.deepcopy(self.source_config)},
            "strategies": {"s": {"type": self.kind, "inputs": ["market"],
                                 **copy.deepcopy(self.config)}},
            "executors": {"venue": {"type": "testing.recorder"}},
        }
        result, rt = run_spec_dict(spec, plugins)
        assert result.exit_code == 0, result.exit_reason
        venue = rt.components["venue"]
        assert isinstance(venue, Recorder)
        for a in venue.actions:
            if isinstance(a, PlaceOrder) and a.price is not None:
                inst = rt.ctx.instruments[a.symbol]
                assert a.price % inst.tick_size == 0, f"{a} is off the tick grid"
                assert a.qty % inst.qty_step == 0, f"{a} is off the qty grid"
            if isinstance(a, CancelOrder):
                assert a.client_id, "cancel without a client id"

