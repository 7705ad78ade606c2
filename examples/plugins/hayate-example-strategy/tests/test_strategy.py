"""example.imbalance's tests, as docs/writing-a-strategy.md walks through them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hayate_example_strategy import ImbalanceJoiner

from hayate.actions import CancelOrder, PlaceOrder
from hayate.events import Side
from hayate.instruments import Instrument
from hayate_testing import make_plugins, run_spec_dict
from hayate_testing.conformance import StrategyConformance
from hayate_testing.market import ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))
CONFIG = {"symbol": "BTCUSDT", "order_qty": "0.01", "depth": 1, "threshold": 0.5,
          "max_position": "0.02"}


@pytest.fixture
def market() -> ScriptedMarket:
    return ScriptedMarket([BTC])


# 1. Unit tests on scripted books: the strategy against the real states and view.


def test_joins_the_bid_when_the_book_leans_to_bids(market: ScriptedMarket) -> None:
    market.add_strategy(ImbalanceJoiner, **CONFIG)
    acts = market.book("BTCUSDT", bids=[("100.0", "9")], asks=[("100.1", "1")])
    assert [(type(a), a.side, a.price) for a in acts] == [(PlaceOrder, Side.BUY, Decimal("100.0"))]  # type: ignore[attr-defined]


def test_does_nothing_while_nothing_changes(market: ScriptedMarket) -> None:
    market.add_strategy(ImbalanceJoiner, **CONFIG)
    market.book("BTCUSDT", bids=[("100.0", "9")], asks=[("100.1", "1")])
    assert market.book("BTCUSDT", bids=[("100.0", "8")], asks=[("100.1", "1")]) == []


def test_cancels_when_the_lean_goes_away(market: ScriptedMarket) -> None:
    market.add_strategy(ImbalanceJoiner, **CONFIG)
    market.book("BTCUSDT", bids=[("100.0", "9")], asks=[("100.1", "1")])
    acts = market.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.1", "1")])
    assert [type(a) for a in acts] == [CancelOrder]
    assert market.open_orders("BTCUSDT") == []


def test_follows_the_best_price_and_switches_sides(market: ScriptedMarket) -> None:
    market.add_strategy(ImbalanceJoiner, **CONFIG)
    market.book("BTCUSDT", bids=[("100.0", "9")], asks=[("100.1", "1")])
    market.book("BTCUSDT", bids=[("100.1", "9")], asks=[("100.2", "1")])
    assert market.quotes("BTCUSDT") == ([Decimal("100.1")], [])
    market.book("BTCUSDT", bids=[("100.1", "1")], asks=[("100.2", "9")])
    assert market.quotes("BTCUSDT") == ([], [Decimal("100.2")])


def test_stops_buying_at_the_position_limit(market: ScriptedMarket) -> None:
    market.add_strategy(ImbalanceJoiner, **CONFIG)
    market.book("BTCUSDT", bids=[("100.0", "9")], asks=[("100.1", "1")])
    market.fill(market.open_orders("BTCUSDT")[0].client_id)
    market.book("BTCUSDT", bids=[("100.1", "9")], asks=[("100.2", "1")])
    market.fill(market.open_orders("BTCUSDT")[0].client_id)
    assert market.position("BTCUSDT") == Decimal("0.02")
    market.book("BTCUSDT", bids=[("100.2", "9")], asks=[("100.3", "1")])
    assert market.open_orders("BTCUSDT") == []


def test_pulls_the_order_when_the_book_is_invalid(market: ScriptedMarket) -> None:
    market.add_strategy(ImbalanceJoiner, **CONFIG)
    market.book("BTCUSDT", bids=[("100.0", "9")], asks=[("100.1", "1")])
    market.invalidate("BTCUSDT")
    assert market.open_orders("BTCUSDT") == []


def test_floats_are_refused_in_the_config(market: ScriptedMarket) -> None:
    with pytest.raises(ValueError, match="decimal"):
        market.add_strategy(ImbalanceJoiner, **{**CONFIG, "order_qty": 0.01})


# 2. A whole bot, on the test kit's simulated ticks and recording venue.


def test_runs_in_a_bot() -> None:
    plugins = make_plugins(["hayate_example_strategy.plugin"])
    spec = {
        "collectors": {"market": {"type": "testing.ticks", "count": 500}},
        "strategies": {"lean": {"type": "example.imbalance", "inputs": ["market"],
                                **{**CONFIG, "symbol": "TESTUSDT", "order_qty": "0.001"}}},
        "executors": {"venue": {"type": "testing.recorder"}},
    }
    result, rt = run_spec_dict(spec, plugins)
    assert result.exit_code == 0
    assert rt.components["venue"].open == {}  # type: ignore[attr-defined]


# 3. The contracts every strategy honours (every event type, orders on the grid).


class TestImbalanceConformance(StrategyConformance):
    plugin = "hayate_example_strategy.plugin"
    kind = "example.imbalance"
    config = {**CONFIG, "symbol": "TESTUSDT", "order_qty": "0.001"}
