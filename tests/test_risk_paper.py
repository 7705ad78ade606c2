"""Property: on random simulated markets, through the paper exchange, a market maker that
pushes against every limit never gets past the risk engine.

The strategy (``mm.simple``) is set up to overtrade: tight quotes, several levels, no
position limit of its own. A ``testing.journal`` state records, in order, every action
that reached the paper exchange and every answer it sent; the checks replay that journal
and never look at the risk engine's own bookkeeping.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hayate.actions import CancelAll, PlaceOrder
from hayate.clock import NS
from hayate.events import Fill, OrderUpdate
from hayate_testing import make_plugins, run_spec_dict


@pytest.fixture(scope="module")
def plugins():  # type: ignore[no-untyped-def]
    return make_plugins(["hayate_paper.plugin", "hayate_strategies.plugin"])


markets = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "volatility": st.floats(0.3, 4.0),
    "jump_rate": st.floats(0, 200),
    "trade_rate": st.floats(1, 20),
})
limits = st.fixed_dictionaries({
    "max_position": st.sampled_from(["0.01", "0.02", "0.05"]),
    "max_open_orders": st.integers(1, 6),
    "max_order_rate": st.integers(2, 30),
    "max_loss": st.sampled_from(["0.01", "0.03", "1"]),  # a few cents trips on these sizes
    "on_loss": st.sampled_from(["halt", "reduce_only"]),
})
quoting = st.fixed_dictionaries({
    "spread_bps": st.floats(0, 2),
    "levels": st.integers(1, 4),
    "order_qty": st.sampled_from(["0.005", "0.01"]),
})


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(markets, limits, quoting)
def test_paper_market_maker_never_breaches_the_limits(plugins: Any, market: dict[str, Any],
                                                      risk: dict[str, Any],
                                                      quotes: dict[str, Any]) -> None:
    spec = {
        "name": "risk-property",
        "engine": {"seed": market["seed"]},
        "collectors": {"market": {"type": "sim.market", "duration": "2m", "start_price": "100",
                                  "tick_size": "0.01", "min_notional": "0", **market}},
        "states": {"journal": {"type": "testing.journal", "sources": ["venue"]}},
        "strategies": {"mm": {"type": "mm.simple", "inputs": ["market"], "symbol": "BTCUSDT",
                              "requote_threshold_ticks": 1, "level_spacing_bps": 1,
                              "stale_after": None, **quotes}},
        "executors": {"venue": {"type": "paper.exchange", "source": "market",
                                "balances": {"USDT": "1000000"}}},
        "risk": {**risk, "check_interval": "10ms"},
    }
    result, rt = run_spec_dict(spec, plugins)
    assert result.exit_code == 0, result.exit_reason
    entries = rt.components["journal"].entries  # type: ignore[attr-defined]
    max_pos = Decimal(risk["max_position"])

    position = Decimal(0)
    working: dict[str, Decimal] = {}  # sent and not yet final, by client id
    sent: deque[int] = deque()
    tripped = False
    fills = 0
    for t, item in entries:
        if isinstance(item, PlaceOrder):
            if tripped:
                # Halted: nothing new. Reduce-only: only what shrinks the position.
                assert risk["on_loss"] == "reduce_only", f"placed after a halt: {item}"
                assert position != 0 and item.side.sign == -(1 if position > 0 else -1)
                assert item.qty <= abs(position)
            working[item.client_id] = item.qty
            sent.append(t)
            while sent[0] <= t - NS:
                sent.popleft()
            assert len(sent) <= risk["max_order_rate"]
            assert len(working) <= risk["max_open_orders"]
        elif item == CancelAll() and not tripped:
            tripped = True  # the engine's own cancel: a breaker tripped
        elif isinstance(item, Fill):
            fills += 1
            position += item.qty * item.side.sign
            assert abs(position) <= max_pos, f"position {position} past {max_pos}"
            left = working.get(item.client_id)
            if left is not None:
                if left - item.qty <= 0:
                    del working[item.client_id]  # done, whatever the order update says later
                else:
                    working[item.client_id] = left - item.qty
        elif isinstance(item, OrderUpdate) and item.status.is_final:
            working.pop(item.client_id, None)
    trips = result.summary["risk"]["trips"]
    assert tripped == ("max_loss" in trips)
