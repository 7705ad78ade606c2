"""The test kit's conformance suites on core's own components: the timer (live, and
following a simulation's clock), the book and account states, and the market view."""

from __future__ import annotations

from typing import Any, ClassVar

from hayate.orders.state import AccountState
from hayate_testing.conformance import (
    ClockFollowerConformance,
    InputConformance,
    LiveCollectorConformance,
    StateConformance,
)


class TestTimerLive(LiveCollectorConformance):
    kind = "core.timer"
    config: ClassVar[dict[str, Any]] = {"interval": 0.01}
    min_events = 3


class TestTimerFollowsTheSimulatedClock(ClockFollowerConformance):
    kind = "core.timer"
    config: ClassVar[dict[str, Any]] = {"interval": 0.25}


class TestOrderBookState(StateConformance):
    kind = "core.orderbook"
    config: ClassVar[dict[str, Any]] = {"max_crossed_updates": 1}


class TestAccountState(StateConformance):
    kind = "core.account"

    def observe(self, state: Any) -> Any:
        """Its summary is empty: compare what it keeps (orders, positions, balances)."""
        assert isinstance(state, AccountState)
        orders = state.orders
        return (
            sorted((o.client_id, o.status, o.filled_qty, o.price, o.qty)
                   for o in orders.orders.values()),
            sorted((s, p.size, p.avg_price, p.realized_pnl, p.fees)
                   for s, p in orders.positions.items()),
            sorted((a, b.total, b.available) for a, b in state.balances.items()),
            state.fills,
        )


class TestMarketView(InputConformance):
    kind = "core.market"
