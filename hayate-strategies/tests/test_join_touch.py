"""mm.join_touch: one lot at each side of the touch, moved with it, capped by position."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.actions import CancelOrder, PlaceOrder, TimeInForce
from hayate.events import OrderStatus, Side
from hayate.instruments import Instrument
from hayate_strategies.join_touch import JoinTheTouch
from hayate_testing.market import ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"),
                 min_qty=Decimal("0.001"))
D = Decimal


def join(m: ScriptedMarket, **cfg) -> JoinTheTouch:  # type: ignore[no-untyped-def]
    base = {"symbol": "BTCUSDT", "order_qty": "0.01", "max_position": "0.02"}
    return m.add_strategy(JoinTheTouch, **{**base, **cfg})  # type: ignore[no-any-return]


def live(m: ScriptedMarket) -> list:  # type: ignore[type-arg]
    return [o for o in m.open_orders("BTCUSDT") if o.status is not OrderStatus.PENDING_CANCEL]


def test_joins_the_best_bid_and_ask_with_one_post_only_lot() -> None:
    m = ScriptedMarket([BTC])
    join(m)
    acts = m.book("BTCUSDT", bids=[("100.0", "1"), ("99.9", "2")], asks=[("100.2", "1")])
    places = [a for a in acts if isinstance(a, PlaceOrder)]
    assert sorted((a.side.value, a.price) for a in places) == [("Buy", D("100.0")),
                                                                ("Sell", D("100.2"))]
    assert {a.qty for a in places} == {D("0.01")}
    assert {a.time_in_force for a in places} == {TimeInForce.POST_ONLY}
    assert len({a.client_id for a in places}) == 2


def test_a_change_away_from_the_touch_sends_nothing() -> None:
    m = ScriptedMarket([BTC])
    join(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert m.book("BTCUSDT", bids=[("99.5", "3")], asks=[("100.2", "4")], delta=True) == []


def test_a_moved_touch_cancels_that_side_and_joins_the_new_price() -> None:
    m = ScriptedMarket([BTC])
    join(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    (old_bid,) = [o for o in live(m) if o.side is Side.BUY]
    acts = m.book("BTCUSDT", bids=[("100.1", "1")], asks=[], delta=True)
    assert [type(a) for a in acts] == [CancelOrder, PlaceOrder]
    assert acts[0].client_id == old_bid.client_id  # type: ignore[union-attr]
    assert m.quotes("BTCUSDT") == ([D("100.1")], [D("100.2")])


def test_the_side_that_would_pass_the_position_cap_is_not_quoted() -> None:
    m = ScriptedMarket([BTC])
    join(m, max_position="0.01")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    (bid,) = [o for o in live(m) if o.side is Side.BUY]
    m.fill(bid.client_id)  # long 0.01 = the cap: no more bids, the ask stays
    assert m.position("BTCUSDT") == D("0.01")
    m.book("BTCUSDT", bids=[("100.1", "1")], asks=[], delta=True)
    assert m.quotes("BTCUSDT") == ([], [D("100.2")])
    (ask,) = [o for o in live(m) if o.side is Side.SELL]
    m.fill(ask.client_id)  # flat again: both sides come back on the next book event
    m.book("BTCUSDT", bids=[("99.0", "1")], asks=[], delta=True)
    assert m.quotes("BTCUSDT") == ([D("100.1")], [D("100.2")])


def test_an_invalid_or_crossed_book_pulls_both_quotes() -> None:
    m = ScriptedMarket([BTC])
    join(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    acts = m.invalidate("BTCUSDT")
    assert len([a for a in acts if isinstance(a, CancelOrder)]) == 2 and live(m) == []
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert len(live(m)) == 2
    m.book("BTCUSDT", bids=[("100.3", "1")], asks=[], delta=True)  # crossed
    assert live(m) == []


def test_stop_cancels_what_is_working() -> None:
    m = ScriptedMarket([BTC])
    s = join(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    acts = s.on_stop(m.view) or []
    assert {a.client_id for a in acts if isinstance(a, CancelOrder)} == \
        {o.client_id for o in live(m)}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 4), st.sampled_from(
    ["book", "fill_bid", "fill_ask"])), min_size=1, max_size=40))
def test_always_one_lot_at_each_allowed_side_of_the_touch(
        steps: list[tuple[int, int, str]]) -> None:
    """Whatever the touch does and whatever fills, after each event there is exactly one
    working order per side, at the touch, unless the cap forbids that side."""
    m = ScriptedMarket([BTC])
    join(m, max_position="0.02")
    lot, cap = D("0.01"), D("0.02")
    for bid_ticks, spread, what in steps:
        bid = D("100.0") + D("0.1") * bid_ticks
        ask = bid + D("0.1") * spread
        if what == "fill_bid" or what == "fill_ask":
            side = Side.BUY if what == "fill_bid" else Side.SELL
            mine = [o for o in live(m) if o.side is side]
            if mine:
                m.fill(mine[0].client_id)
        m.book("BTCUSDT", bids=[(str(bid), "1")], asks=[(str(ask), "1")])
        pos = m.position("BTCUSDT")
        assert abs(pos) <= cap
        bids, asks = m.quotes("BTCUSDT")
        assert bids == ([bid] if pos + lot <= cap else [])
        assert asks == ([ask] if -pos + lot <= cap else [])
