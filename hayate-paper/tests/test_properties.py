"""Property tests over random markets and random order flows (hypothesis).

- a fill never goes through its order's limit (a buy never pays more, a sell never gets
  less) and a resting order always trades at its own price;
- an order never fills more than its quantity;
- a resting order never fills (as maker, from trades) more than the volume that traded at
  or through its price after the queue that was ahead of it;
- cash plus position value reconciles with the realized/unrealized P&L and the fees, and
  the wallet moves by exactly realized P&L minus fees.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hayate.actions import CancelOrder, TimeInForce
from hayate.events import Fill, Liquidity, OrderStatus, OrderUpdate, Side
from hayate_paper.fees import FeeSchedule
from hayate_paper.fill_model import FillModel

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
MID = 1000  # 100.0 in price units; the book lives on 990..1010

sides = st.sampled_from([BUY, SELL])
tifs = st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                        TimeInForce.POST_ONLY])
qtys = st.integers(min_value=100, max_value=3000)  # 0.1 .. 3.0 in 0.001 units

ops = st.one_of(
    st.tuples(st.just("trade"), st.integers(-8, 8), qtys, sides),
    st.tuples(st.just("delta"), sides, st.integers(1, 10), st.integers(0, 4000)),
    st.tuples(st.just("place"), sides, st.integers(-6, 6), qtys, tifs),
    st.tuples(st.just("market"), sides, qtys),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
)


def _px(units: int) -> str:
    return str(D(units).scaleb(-1))


def _qty(units: int) -> str:
    return str(D(units).scaleb(-3))


def _run(venue, flow, *, even_quotes: bool):
    """Apply ``flow``; returns per-order (side, limit units, qty units, rested_at index)."""
    orders: dict[str, tuple[Side, int | None, int]] = {}
    placed: list[str] = []
    for op in flow:
        kind = op[0]
        if kind == "trade":
            _, off, q, side = op
            venue.trade(_px(MID + off), _qty(q), side)
        elif kind == "delta":
            _, side, dist, q = op
            # With even_quotes, the feed only ever changes odd ticks: our prices (even) keep
            # their visible size, so the queue ahead is known exactly.
            dist = dist * 2 - 1 if even_quotes else dist
            p = MID - dist if side is BUY else MID + dist
            if side is BUY:
                venue.delta(bids=[(_px(p), _qty(q))])
            else:
                venue.delta(asks=[(_px(p), _qty(q))])
        elif kind == "place":
            _, side, off, q, tif = op
            if even_quotes:
                off = off * 2
            cid = venue.place(side, _qty(q), _px(MID + off), tif=tif)
            orders[cid] = (side, MID + off, q)
            placed.append(cid)
        elif kind == "market":
            _, side, q = op
            cid = venue.place(side, _qty(q), market=True)
            orders[cid] = (side, None, q)
            placed.append(cid)
        elif kind == "cancel" and placed:
            venue.act(CancelOrder(symbol="BTCUSDT", client_id=placed[op[1] % len(placed)]))
    return orders


def _start(make_venue, **kw):
    v = make_venue(**kw)
    bids = [(_px(MID - i), "2") for i in range(0, 11)]
    asks = [(_px(MID + i), "2") for i in range(1, 11)]
    v.snapshot(bids=bids, asks=asks)
    return v


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=st.lists(ops, max_size=60))
def test_fills_never_beat_the_limit_nor_exceed_the_order(make_venue, flow):
    v = _start(make_venue)
    orders = _run(v, flow, even_quotes=False)
    filled: dict[str, Decimal] = {}
    for f in v.fills():
        side, limit, _ = orders[f.client_id]
        if limit is not None:
            lim = D(limit).scaleb(-1)
            assert (f.price <= lim) if side is BUY else (f.price >= lim)
            if f.liquidity is Liquidity.MAKER:
                assert f.price == lim  # a resting order trades at its own price
        filled[f.client_id] = filled.get(f.client_id, D(0)) + f.qty
        assert f.qty > 0
    for cid, total in filled.items():
        assert total <= D(orders[cid][2]).scaleb(-3)
    for ev in v.events():
        if isinstance(ev, OrderUpdate) and ev.status is OrderStatus.FILLED:
            assert filled.get(ev.client_id) == ev.qty


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=st.lists(ops, max_size=60))
def test_a_resting_order_fills_at_most_the_volume_traded_after_its_queue(make_venue, flow):
    v = _start(make_venue, fill_on_cross=False)
    # Replay the flow ourselves to know, for each resting order, the queue ahead when it
    # joined and the volume that traded at or through its price afterwards.
    orders = _run(v, flow, even_quotes=True)
    events = v.events()
    first_rest: dict[str, int] = {}
    for i, ev in enumerate(events):
        if (isinstance(ev, OrderUpdate) and ev.client_id not in first_rest
                and ev.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)):
            first_rest[ev.client_id] = i
    for cid, (side, limit, _) in orders.items():
        if limit is None or cid not in first_rest:
            continue
        rest_ts = events[first_rest[cid]].ts
        # The snapshot put 2 on every price of 990..1000 (bids) and 1001..1010 (asks), and
        # the feed never changes an even price: that is the queue ahead when it joined.
        # Our own taker orders may have taken part of it before: that part is gone.
        own_side = range(MID - 10, MID + 1) if side is BUY else range(MID + 1, MID + 11)
        taken = sum(v.inst.qty_units(f.qty) for f in v.fills()
                    if f.liquidity is Liquidity.TAKER and f.side is not side and f.ts <= rest_ts
                    and v.inst.price_units(f.price) == limit)
        ahead0 = max(0, 2000 - taken) if limit in own_side else 0
        volume = 0
        for tr in v.trades_fed:
            if tr.ts <= rest_ts:
                continue
            hits_bid = side is BUY and tr.side is SELL and tr.price <= limit
            hits_ask = side is SELL and tr.side is BUY and tr.price >= limit
            if hits_bid or hits_ask:
                volume += tr.qty
        maker = sum((f.qty for f in v.fills(cid) if f.liquidity is Liquidity.MAKER), D(0))
        assert maker <= D(max(0, volume - ahead0)).scaleb(-3)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=st.lists(ops, max_size=60), mark_off=st.integers(-20, 20))
def test_cash_plus_position_value_reconciles_with_pnl_and_fees(make_venue, flow, mark_off):
    v = _start(make_venue, balances={"USDT": "1000000"})
    _run(v, flow, even_quotes=False)
    acct = v.account
    fills = [e for e in v.events() if isinstance(e, Fill)]
    cash = sum((-(f.price * f.qty) if f.side is BUY else f.price * f.qty for f in fills), D(0))
    fees = sum((f.fee for f in fills), D(0))
    size = sum((f.qty if f.side is BUY else -f.qty for f in fills), D(0))
    mark = D(MID + mark_off).scaleb(-1)
    pos = acct.position("BTCUSDT")
    assert pos.size == size
    assert acct.fees_quote == fees
    # Everything we paid and received, plus what the position is worth at the mark, is the
    # realized P&L plus the unrealized P&L, minus fees.
    lhs = cash + size * mark - fees
    rhs = pos.realized_pnl + pos.unrealized_pnl(mark) - fees
    assert abs(lhs - rhs) < D("1e-20")
    # The wallet books each fill's P&L rounded to the fee precision (8 decimals).
    booked = D(1000000) + pos.realized_pnl - fees
    assert abs(acct.wallet["USDT"] - booked) <= len(fills) * D("0.5e-8")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=st.lists(ops, max_size=50), mark_off=st.integers(-20, 20))
def test_spot_balances_reconcile_with_fills(make_venue, flow, mark_off):
    fees_cfg = FeeSchedule(spot_fee_asset="quote")
    v = _start(make_venue, category="spot", balances={"USDT": "100000", "BTC": "50"},
               fees=fees_cfg)
    _run(v, flow, even_quotes=False)
    acct = v.account
    fills = [e for e in v.events() if isinstance(e, Fill)]
    quote = D(100000) + sum((-(f.price * f.qty) if f.side is BUY else f.price * f.qty
                             for f in fills), D(0)) - sum((f.fee for f in fills), D(0))
    base = D(50) + sum((f.qty if f.side is BUY else -f.qty for f in fills), D(0))
    assert acct.wallet["USDT"] == quote
    assert acct.wallet["BTC"] == base
    assert acct.wallet["BTC"] >= 0 and acct.wallet["USDT"] >= 0  # spot never borrows
    assert all(x >= 0 for x in acct.locked.values())
    mark = D(MID + mark_off).scaleb(-1)
    pos = acct.position("BTCUSDT")
    traded_value = (quote - D(100000)) + (base - D(50)) * mark
    assert abs(traded_value - (pos.realized_pnl + pos.unrealized_pnl(mark) - acct.fees_quote)) \
        < D("1e-20")


fill_models = st.builds(
    FillModel, partial_fills=st.booleans(),
    own_depletion=st.sampled_from(["persist", "none", "decay:5ms", "decay:1s"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=st.lists(ops, max_size=60), model=fill_models)
def test_every_fill_model_keeps_limits_sizes_and_depletion_within_the_book(make_venue, flow,
                                                                          model):
    v = _start(make_venue, fill_model=model)
    orders = _run(v, flow, even_quotes=False)
    filled: dict[str, Decimal] = {}
    for f in v.fills():
        side, limit, _ = orders[f.client_id]
        if limit is not None:
            lim = D(limit).scaleb(-1)
            assert (f.price <= lim) if side is BUY else (f.price >= lim)
        filled[f.client_id] = filled.get(f.client_id, D(0)) + f.qty
    for cid, total in filled.items():
        assert total <= D(orders[cid][2]).scaleb(-3)
    st_ = v.ex.symbols["BTCUSDT"]
    for consumed, levels in ((st_.consumed_bids, st_.book.bids), (st_.consumed_asks, st_.book.asks)):
        for p, c in consumed.items():
            assert 0 < c <= levels.get(p, 0)  # what we took is never more than is shown
    if model.own_depletion == "none":
        assert not st_.consumed_bids and not st_.consumed_asks
