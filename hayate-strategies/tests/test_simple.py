"""mm.simple: where it quotes, when it requotes, and when it gets out of the market."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.actions import CancelOrder, PlaceOrder, TimeInForce
from hayate.events import OrderStatus, Side
from hayate.exceptions import ConfigError
from hayate.instruments import Instrument
from hayate_strategies.market_making import SimpleMarketMaker
from hayate_testing.market import ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"),
                 min_qty=Decimal("0.001"))
ETH = Instrument(symbol="ETHUSDT", tick_size=Decimal("0.01"), qty_step=Decimal("0.01"),
                 min_qty=Decimal("0.01"))
HALF = Instrument(symbol="HALFUSDT", tick_size=Decimal("0.5"), qty_step=Decimal("1"),
                  price_decimals=1)
D = Decimal


def market(*insts: Instrument, auto_ack: bool = True) -> ScriptedMarket:
    return ScriptedMarket(list(insts) or [BTC], auto_ack=auto_ack)


def simple(m: ScriptedMarket, **cfg) -> SimpleMarketMaker:  # type: ignore[no-untyped-def]
    base = {"symbol": "BTCUSDT", "spread_bps": 20, "order_qty": "0.01"}
    return m.add_strategy(SimpleMarketMaker, **{**base, **cfg})  # type: ignore[no-any-return]


def test_quotes_both_sides_on_the_tick_grid_around_the_mid() -> None:
    m = market()
    simple(m)
    acts = m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    # mid 100.1, half spread 10 bps = 0.1001: bid 99.9999 rounds down, ask 100.2001 up.
    assert m.quotes("BTCUSDT") == ([D("99.9")], [D("100.3")])
    places = [a for a in acts if isinstance(a, PlaceOrder)]
    assert {a.time_in_force for a in places} == {TimeInForce.POST_ONLY}
    assert {a.qty for a in places} == {D("0.01")}


def test_several_levels_with_sizes_per_level() -> None:
    m = market()
    simple(m, levels=3, level_spacing_bps=10, order_qty=["0.01", "0.02", "0.03"])
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert m.quotes("BTCUSDT") == ([D("99.9"), D("99.8"), D("99.7")],
                                   [D("100.3"), D("100.4"), D("100.5")])
    sizes = {o.price: o.qty for o in m.open_orders("BTCUSDT")}
    assert sizes[D("99.7")] == D("0.03") and sizes[D("100.3")] == D("0.01")


def test_levels_stay_a_tick_apart_without_spacing() -> None:
    m = market()
    simple(m, levels=3, spread_bps=0)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.1", "1")])
    assert m.quotes("BTCUSDT") == ([D("100.0"), D("99.9"), D("99.8")],
                                   [D("100.1"), D("100.2"), D("100.3")])


def test_post_only_quotes_never_cross_a_wide_book() -> None:
    m = market()
    simple(m, spread_bps=0, skew_bps_per_unit=10_000)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("101.0", "1")])
    m.fill(m.open_orders("BTCUSDT", Side.SELL)[0].client_id)  # short 0.01: skew up
    bids, asks = m.quotes("BTCUSDT")
    assert bids[0] <= D("100.9") and asks[0] >= D("100.1") and bids[0] < asks[0]


def test_half_tick_grid_rounds_outwards() -> None:
    m = market(HALF)
    simple(m, symbol="HALFUSDT", order_qty="1", spread_bps=1)
    m.book("HALFUSDT", bids=[("100.0", "5")], asks=[("101.0", "5")])
    # mid 100.5, half spread 0.005: 100.495 -> 100.0 on the 0.5 grid, 100.505 -> 101.0.
    assert m.quotes("HALFUSDT") == ([D("100.0")], [D("101.0")])


def test_requotes_only_when_the_mid_moves_past_the_threshold() -> None:
    m = market()
    simple(m, requote_threshold_ticks=3)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    first = m.quotes("BTCUSDT")
    assert m.book("BTCUSDT", bids=[("100.1", "1")], asks=[("100.3", "1")]) == []
    assert m.book("BTCUSDT", bids=[("100.2", "1")], asks=[("100.4", "1")]) == []
    assert m.quotes("BTCUSDT") == first
    acts = m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])  # 3 ticks
    assert sorted(type(a).__name__ for a in acts) == ["CancelOrder", "CancelOrder",
                                                     "PlaceOrder", "PlaceOrder"]
    assert m.quotes("BTCUSDT") == ([D("100.2")], [D("100.6")])


def test_requote_threshold_in_bps() -> None:
    m = market()
    simple(m, requote_threshold_ticks=0, requote_threshold_bps=50)  # 0.5005 at 100.1
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert m.book("BTCUSDT", bids=[("100.5", "1")], asks=[("100.7", "1")]) == []
    assert m.book("BTCUSDT", bids=[("100.6", "1")], asks=[("100.8", "1")]) != []


def test_unchanged_levels_are_left_alone() -> None:
    m = market()
    simple(m, levels=3, spread_bps=0)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.1", "1")])
    acts = m.book("BTCUSDT", bids=[("100.1", "1")], asks=[("100.2", "1")])
    # Each side moved one tick: only the outermost ask and the innermost... no: the ladder
    # shifted by one tick, so one order per side is cancelled and one placed.
    cancels = [a for a in acts if isinstance(a, CancelOrder)]
    places = [a for a in acts if isinstance(a, PlaceOrder)]
    assert len(cancels) == 2 and len(places) == 2
    assert m.quotes("BTCUSDT") == ([D("100.1"), D("100.0"), D("99.9")],
                                   [D("100.2"), D("100.3"), D("100.4")])


def test_inventory_skew_leans_against_the_position() -> None:
    m = market()
    simple(m, skew_bps_per_unit=1000, order_qty="0.1")  # 10 % per BTC: 1 % at 0.1 BTC
    m.book("BTCUSDT", bids=[("99.0", "1")], asks=[("101.0", "1")])
    assert m.quotes("BTCUSDT") == ([D("99.9")], [D("100.1")])
    bid = m.open_orders("BTCUSDT", Side.BUY)[0]
    m.fill(bid.client_id)
    assert m.position("BTCUSDT") == D("0.1")
    # Reference 100 * (1 - 0.01) = 99.0: both quotes move down by about 1.
    assert m.quotes("BTCUSDT") == ([D("98.9")], [D("99.1")])


def test_max_position_stops_the_side_that_would_grow_it() -> None:
    m = market()
    simple(m, max_position="0.015", order_qty="0.01")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.fill(m.open_orders("BTCUSDT", Side.BUY)[0].client_id)
    # Long 0.01: only 0.005 of room to buy, so the bid shrinks; the ask is full size.
    sizes = {o.side: o.qty for o in m.open_orders("BTCUSDT")}
    assert sizes == {Side.BUY: D("0.005"), Side.SELL: D("0.01")}
    m.fill(m.open_orders("BTCUSDT", Side.BUY)[0].client_id)
    assert m.position("BTCUSDT") == D("0.015")
    assert [o.side for o in m.open_orders("BTCUSDT")] == [Side.SELL]


def test_orders_that_could_overshoot_after_a_fill_are_cancelled() -> None:
    m = market()
    simple(m, max_position="0.02", levels=2, order_qty="0.01", level_spacing_bps=10)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    bids = sorted(m.open_orders("BTCUSDT", Side.BUY), key=lambda o: o.price, reverse=True)
    assert len(bids) == 2
    m.fill(bids[0].client_id)
    working = [o for o in m.open_orders("BTCUSDT", Side.BUY)]
    assert sum(o.leaves_qty for o in working) + m.position("BTCUSDT") <= D("0.02")


def test_partially_filled_quotes_stay_working() -> None:
    m = market()
    simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    bid = m.open_orders("BTCUSDT", Side.BUY)[0]
    acts = m.fill(bid.client_id, qty="0.004")
    assert m.account.orders.get(bid.client_id).status is OrderStatus.PARTIALLY_FILLED  # type: ignore[union-attr]
    # The position moved the reference by nothing (no skew): the partial order stays.
    assert not any(isinstance(a, CancelOrder) and a.client_id == bid.client_id for a in acts)


def test_rejected_quote_is_replaced() -> None:
    m = market(auto_ack=False)
    simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    bid = m.open_orders("BTCUSDT", Side.BUY)[0]
    acts = m.reject(bid.client_id)
    assert [(type(a).__name__, a.side) for a in acts] == [("PlaceOrder", Side.BUY)]  # type: ignore[attr-defined]


def test_min_quote_lifetime_holds_quotes_then_requotes() -> None:
    m = market()
    simple(m, min_quote_lifetime="2s")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.advance(1)
    assert m.book("BTCUSDT", bids=[("101.0", "1")], asks=[("101.2", "1")]) == []
    assert m.quotes("BTCUSDT") == ([D("99.9")], [D("100.3")])
    m.advance(1)
    acts = m.trade("BTCUSDT", "101.1", "0.1")  # any event of the symbol after the wake time
    assert len(acts) == 4
    assert m.quotes("BTCUSDT") == ([D("100.9")], [D("101.3")])


def test_min_quote_lifetime_wakes_on_a_timer() -> None:
    m = market()
    simple(m, min_quote_lifetime="2s")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.book("BTCUSDT", bids=[("101.0", "1")], asks=[("101.2", "1")])
    m.advance(2)
    assert len(m.timer()) == 4


def test_invalid_book_pulls_quotes_even_young_ones() -> None:
    m = market()
    simple(m, min_quote_lifetime="1h")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    acts = m.invalidate("BTCUSDT")
    assert sorted(type(a).__name__ for a in acts) == ["CancelOrder", "CancelOrder"]
    assert m.open_orders("BTCUSDT") == []
    assert m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")], delta=True) == []
    m.ready("BTCUSDT")
    assert m.quotes("BTCUSDT") == ([D("99.9")], [D("100.3")])


def test_stale_book_pulls_quotes_on_a_timer() -> None:
    m = market()
    simple(m, stale_after="5s")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.advance(4)
    assert m.timer() == []
    m.advance(2)
    acts = m.timer()
    assert len(acts) == 2 and all(isinstance(a, CancelOrder) for a in acts)
    assert m.open_orders("BTCUSDT") == []
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert len(m.open_orders("BTCUSDT")) == 2


def test_one_sided_or_crossed_book_is_not_quoted() -> None:
    m = market()
    simple(m)
    assert m.book("BTCUSDT", bids=[("100.0", "1")], asks=[]) == []
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert len(m.open_orders("BTCUSDT")) == 2
    m.book("BTCUSDT", bids=[("100.5", "1")], asks=[], delta=True)  # crossed: book invalid
    assert m.open_orders("BTCUSDT") == []


def test_several_symbols_with_overrides() -> None:
    m = market(BTC, ETH)
    mm = simple(m, symbol=None, symbols=["BTCUSDT", "ETHUSDT"],
                per_symbol={"ETHUSDT": {"order_qty": "0.5", "spread_bps": 40}})
    assert mm.symbols == frozenset({"BTCUSDT", "ETHUSDT"})
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert m.open_orders("ETHUSDT") == []
    m.book("ETHUSDT", bids=[("10.00", "9")], asks=[("10.02", "9")])
    assert m.quotes("ETHUSDT") == ([D("9.98")], [D("10.04")])  # 40 bps around 10.01
    assert {o.qty for o in m.open_orders("ETHUSDT")} == {D("0.5")}
    assert {o.qty for o in m.open_orders("BTCUSDT")} == {D("0.01")}
    # ETH moving does not touch the BTC quotes.
    acts = m.book("ETHUSDT", bids=[("11.00", "9")], asks=[("11.02", "9")])
    assert acts and all(a.symbol == "ETHUSDT" for a in acts)  # type: ignore[attr-defined]


def test_order_qty_off_the_qty_grid_is_a_config_error() -> None:
    m = market()
    with pytest.raises(ConfigError, match="qty step"):
        simple(m, order_qty="0.0015")


def test_on_stop_cancels_every_quote() -> None:
    m = market()
    mm = simple(m, levels=2)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    acts = mm.on_stop(m.view)
    assert acts is not None
    assert {a.client_id for a in acts} == {o.client_id for o in m.open_orders("BTCUSDT")}  # type: ignore[attr-defined]


def test_summary_counts() -> None:
    m = market()
    mm = simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.fill(m.open_orders("BTCUSDT", Side.BUY)[0].client_id)
    s = mm.summary()
    assert s["quotes_placed"] == 3 and s["strategy_fills"] == 1
    assert s["max_abs_position"] == {"BTCUSDT": "0.01"}


@settings(max_examples=300, deadline=None)
@given(
    bid=st.integers(1, 100_000),
    width=st.integers(1, 50),
    spread=st.floats(0, 200),
    skew=st.floats(0, 5000),
    levels=st.integers(1, 5),
    spacing=st.floats(0, 30),
    fills=st.lists(st.sampled_from([Side.BUY, Side.SELL]), max_size=4),
    max_pos=st.sampled_from([None, "0.02", "0.05"]),
)
def test_quotes_are_always_on_the_grid_inside_the_book_and_within_limits(
    bid: int, width: int, spread: float, skew: float, levels: int, spacing: float,
    fills: list[Side], max_pos: str | None,
) -> None:
    m = market()
    simple(m, spread_bps=spread, skew_bps_per_unit=skew, levels=levels,
           level_spacing_bps=spacing, max_position=max_pos)
    inst = BTC
    b, a = inst.price(bid), inst.price(bid + width)
    m.book("BTCUSDT", bids=[(b, "1")], asks=[(a, "1")])
    for side in fills:
        mine = m.open_orders("BTCUSDT", side)
        if mine:
            m.fill(mine[0].client_id)
    # Settled: the same book again changes nothing (no churn).
    assert m.book("BTCUSDT", bids=[(b, "1")], asks=[(a, "1")]) == []
    bids, asks = m.quotes("BTCUSDT")
    assert len(bids) <= levels and len(asks) <= levels
    for p in bids + asks:
        assert p % inst.tick_size == 0 and p > 0
    assert all(p < a for p in bids) and all(p > b for p in asks)  # PostOnly never crosses
    if bids and asks:
        assert bids[0] < asks[0]
    assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)
    if max_pos is not None:
        pos = m.position("BTCUSDT")
        buys = sum((o.leaves_qty for o in m.open_orders("BTCUSDT", Side.BUY)), Decimal(0))
        sells = sum((o.leaves_qty for o in m.open_orders("BTCUSDT", Side.SELL)), Decimal(0))
        assert pos + buys <= Decimal(max_pos) and -pos + sells <= Decimal(max_pos)


def test_quotes_are_pulled_while_the_venue_is_degraded_and_come_back_after() -> None:
    from hayate.events import VenueStatus

    m = market()
    simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert m.quotes("BTCUSDT") == ([D("99.9")], [D("100.3")])
    acts = m.send(VenueStatus(ts=m.now, recv_ts=m.now, healthy=False, reason="10006"))
    assert acts and all(isinstance(a, CancelOrder) for a in acts)
    assert m.quotes("BTCUSDT") == ([], [])
    # Market data keeps coming: nothing new is placed while the venue cannot serve us.
    for px in ("100.5", "101.0", "99.0"):
        acts = m.book("BTCUSDT", bids=[(px, "1")], asks=[(str(D(px) + D("0.2")), "1")])
        assert not [a for a in acts if isinstance(a, PlaceOrder)]
    acts = m.send(VenueStatus(ts=m.now, recv_ts=m.now, healthy=True))
    assert [a for a in acts if isinstance(a, PlaceOrder)]  # back in the market at once
    assert m.quotes("BTCUSDT") == ([D("99.0")], [D("99.2")])  # around the mid of 99.1


def test_delayed_answers_never_leave_more_live_orders_than_levels() -> None:
    """The venue answers nothing while the mid keeps moving: each requote may replace an
    order (its cancel goes first in the same batch), but an order whose cancel is still
    unanswered keeps its level, so live orders (new, pending new or pending cancel) never
    exceed the levels asked for on either side."""
    m = market(auto_ack=False)
    simple(m, levels=2, level_spacing_bps=10)
    px = D("100.0")
    for step in range(12):
        # Cancels sent before this step may still be live at the venue; a cancel sent in
        # this step's batch goes ahead of its replacement, so the venue never holds both.
        unanswered = {o.client_id for o in m.open_orders("BTCUSDT")
                      if o.status is OrderStatus.PENDING_CANCEL}
        px += D("0.5") if step % 3 else D("-0.3")
        m.book("BTCUSDT", bids=[(str(px), "1")], asks=[(str(px + D("0.2")), "1")])
        for side in (Side.BUY, Side.SELL):
            live = [o for o in m.open_orders("BTCUSDT", side)
                    if o.status is not OrderStatus.PENDING_CANCEL or o.client_id in unanswered]
            assert len(live) <= 2, (step, side, [(o.price, o.status) for o in live])
    # Once the venue answers, quoting catches up: both levels on both sides are working.
    m.ack()
    m.book("BTCUSDT", bids=[(str(px), "1")], asks=[(str(px + D("0.2")), "1")])
    m.ack()
    bids, asks = m.quotes("BTCUSDT")
    assert len(bids) == 2 and len(asks) == 2
