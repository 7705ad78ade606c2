"""The strategy contract: it survives every event type and only sends orders a venue
would take (on the instrument's grids, cancels by client id)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from hayate.actions import CancelOrder, PlaceOrder
from hayate.engine.runtime import BotRuntime
from hayate.plugins.manager import PluginManager
from hayate.types import Role
from hayate_testing.components import Recorder
from hayate_testing.conformance.component import ComponentConformance
from hayate_testing.harness import run_spec_dict

__all__ = ["StrategyConformance"]


class StrategyConformance(ComponentConformance):
    """A strategy survives every event type and only emits orders on the tick grid.

    ``source_config`` is the market it quotes in a long run; the every-event script
    (``testing.every_event``) is played for ``symbol``, the symbol ``config`` trades.
    """

    role: ClassVar[Role] = "strategies"
    wiring: ClassVar[dict[str, Any]] = {"inputs": ["market"]}
    source_config: ClassVar[dict[str, Any]] = {"type": "testing.ticks", "count": 2000}
    symbol: ClassVar[str] = "TESTUSDT"

    def _run(self, plugins: PluginManager, source: dict[str, Any]) -> tuple[Any, BotRuntime]:
        spec = {
            "collectors": {"market": copy.deepcopy(source)},
            "strategies": {"s": {"type": self.kind, "inputs": ["market"],
                                 **copy.deepcopy(self.config)}},
            "executors": {"venue": {"type": "testing.recorder"}},
        }
        result, rt = run_spec_dict(spec, plugins)
        assert result.exit_code == 0, result.exit_reason
        return result, rt

    def _check_actions(self, rt: BotRuntime) -> None:
        venue = rt.components["venue"]
        assert isinstance(venue, Recorder)
        for a in venue.actions:
            if isinstance(a, PlaceOrder) and a.price is not None:
                inst = rt.ctx.instruments[a.symbol]
                assert a.price % inst.tick_size == 0, f"{a} is off the tick grid"
                assert a.qty % inst.qty_step == 0, f"{a} is off the qty grid"
            if isinstance(a, CancelOrder):
                assert a.client_id, "cancel without a client id"

    def test_runs_against_a_recording_venue(self, plugins: PluginManager) -> None:
        _, rt = self._run(plugins, self.source_config)
        self._check_actions(rt)

    def test_survives_every_event_type(self, plugins: PluginManager) -> None:
        """Crossed, one-sided and empty books, BookInvalid/BookReady, a StreamGap, tickers,
        timers, fills and updates of orders it never placed, unknown symbols and event
        classes: the strategy takes them all, and what it sends stays on the grids."""
        _, rt = self._run(plugins, {"type": "testing.every_event", "symbol": self.symbol,
                                    "repeat": 3})
        self._check_actions(rt)
