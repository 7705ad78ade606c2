"""Hand-computed matching scenarios: taker walks, each time in force, queue position,
crossing fills, reduce-only, amend/cancel, validation, margin and spot funds.

The ``venue`` fixture's book (BTCUSDT, tick 0.1, step 0.001, min notional 5):

    bids 100.0 x 2 | 99.9 x 3 | 99.8 x 4        asks 100.1 x 1 | 100.2 x 2 | 100.3 x 5
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from hayate.actions import AmendOrder, CancelAll, CancelOrder, TimeInForce
from hayate.events import Liquidity, OrderStatus, PositionUpdate, Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def test_taker_walks_the_book_level_by_level_at_vwap(venue):
    cid = venue.place(BUY, "2.5", "100.3")
    fills = venue.fills(cid)
    assert [(f.price, f.qty) for f in fills] == [(D("100.1"), D("1.000")), (D("100.2"), D("1.500"))]
    assert all(f.liquidity is Liquidity.TAKER for f in fills)
    last = venue.last(cid)
    assert last.status is OrderStatus.FILLED
    assert last.filled_qty == D("2.5")
    assert last.avg_price == D("100.16")  # (100.1 * 1 + 100.2 * 1.5) / 2.5
    # taker fee 0.055 % of each fill's notional
    assert [f.fee for f in fills] == [D("0.05505500"), D("0.08266500")]


def test_a_limit_never_fills_beyond_its_price_and_the_rest_rests(venue):
    cid = venue.place(BUY, "5", "100.2")
    assert [(f.price, f.qty) for f in venue.fills(cid)] == [(D("100.1"), 1), (D("100.2"), 2)]
    last = venue.last(cid)
    assert last.status is OrderStatus.PARTIALLY_FILLED and last.filled_qty == 3
    assert venue.ahead(cid) == 0  # nobody visible on the bid at 100.2


def test_liquidity_we_took_is_not_sold_to_us_twice(venue):
    venue.place(BUY, "3", "100.2", tif=TimeInForce.IOC)
    second = venue.place(BUY, "1", "100.2", tif=TimeInForce.IOC)
    assert venue.fills(second) == []
    assert venue.last(second).status is OrderStatus.CANCELLED
    assert venue.last(second).reason == "EC_NoImmediateQtyToFill"
    # The feed refreshes 100.1 to 1.5: only the 0.5 above what we took is new liquidity.
    venue.delta(asks=[("100.1", "1.5")])
    third = venue.place(BUY, "1", "100.1", tif=TimeInForce.IOC)
    assert [(f.price, f.qty) for f in venue.fills(third)] == [(D("100.1"), D("0.5"))]


def test_ioc_cancels_the_remainder_with_bybit_status_per_category(venue):
    cid = venue.place(BUY, "4", "100.2", tif=TimeInForce.IOC)
    last = venue.last(cid)
    assert venue.filled(cid) == 3
    assert last.status is OrderStatus.CANCELLED  # derivatives: Cancelled with a filled qty
    assert last.filled_qty == 3 and last.reason == "EC_NoImmediateQtyToFill"


def test_ioc_remainder_on_spot_is_partially_filled_canceled(make_venue):
    v = make_venue("spot", balances={"USDT": "1000", "BTC": "0"})
    v.snapshot(bids=[("100.0", "1")], asks=[("100.1", "1")])
    cid = v.place(BUY, "2", "100.1", tif=TimeInForce.IOC)
    assert v.last(cid).status is OrderStatus.PARTIALLY_FILLED_CANCELLED
    assert v.filled(cid) == 1


def test_fok_fills_entirely_or_not_at_all(venue):
    no = venue.place(BUY, "4", "100.2", tif=TimeInForce.FOK)
    assert venue.fills(no) == []
    assert venue.last(no).status is OrderStatus.CANCELLED
    assert venue.last(no).reason == "EC_CancelForNoFullFill"
    yes = venue.place(BUY, "3", "100.2", tif=TimeInForce.FOK)
    assert venue.filled(yes) == 3 and venue.last(yes).status is OrderStatus.FILLED


def test_post_only_that_would_cross_is_cancelled_not_rejected(venue):
    cross = venue.place(SELL, "1", "100.0", tif=TimeInForce.POST_ONLY)
    last = venue.last(cross)
    assert last.status is OrderStatus.CANCELLED
    assert last.reason == "EC_PostOnlyWillTakeLiquidity"
    assert venue.fills(cross) == []
    ok = venue.place(SELL, "1", "100.1", tif=TimeInForce.POST_ONLY)
    assert venue.last(ok).status is OrderStatus.NEW
    assert venue.ahead(ok) == 1  # joins behind the 1 visible at 100.1


def test_market_order_walks_everything_and_cancels_what_the_book_lacks(venue):
    cid = venue.place(BUY, "9", market=True)
    assert [f.price for f in venue.fills(cid)] == [D("100.1"), D("100.2"), D("100.3")]
    last = venue.last(cid)
    assert last.filled_qty == 8 and last.status is OrderStatus.CANCELLED
    assert last.reason == "EC_NoEnoughQtyToFill"


def test_market_order_on_an_empty_side_is_cancelled(make_venue):
    v = make_venue()
    v.snapshot(bids=[("100.0", "1")], asks=[])
    cid = v.place(BUY, "1", market=True)
    assert v.last(cid).status is OrderStatus.CANCELLED and v.fills(cid) == []


def test_queue_position_trades_at_the_price_consume_the_queue_first(venue):
    cid = venue.place(BUY, "1", "100.0")
    assert venue.ahead(cid) == 2
    venue.trade("100.0", "1.5", SELL)
    assert venue.ahead(cid) == D("0.5") and venue.fills(cid) == []
    venue.trade("100.0", "1", SELL)  # 0.5 for the queue ahead, 0.5 for us
    assert [(f.price, f.qty, f.liquidity) for f in venue.fills(cid)] == [
        (D("100.0"), D("0.5"), Liquidity.MAKER)]
    assert venue.last(cid).status is OrderStatus.PARTIALLY_FILLED
    venue.trade("99.9", "0.2", SELL)  # through our price: fills at our price
    assert venue.fills(cid)[-1].price == D("100.0") and venue.filled(cid) == D("0.7")
    venue.trade("100.1", "5", BUY)  # a buyer lifting the ask does not touch our bid
    assert venue.filled(cid) == D("0.7")
    assert [f.fee for f in venue.fills(cid)] == [D("0.01000000"), D("0.00400000")]  # maker 0.02 %


def test_a_print_is_shared_not_duplicated_between_our_orders(venue):
    a = venue.place(BUY, "1", "100.0")
    b = venue.place(BUY, "1", "100.0")  # behind the 2 visible and behind a
    assert venue.ahead(b) == 2
    venue.trade("100.0", "3.5", SELL)  # 2 to the queue, 1 to a, 0.5 to b
    assert venue.filled(a) == 1 and venue.filled(b) == D("0.5")


def test_conservative_queue_only_shrinks_to_the_visible_size(venue):
    cid = venue.place(BUY, "1", "100.0")
    venue.delta(bids=[("100.0", "1.2")])  # someone ahead (or behind) cancelled 0.8
    assert venue.ahead(cid) == D("1.2")  # can't be more than what is visible
    venue.delta(bids=[("100.0", "5")])  # newcomers join behind us
    assert venue.ahead(cid) == D("1.2")


def test_probabilistic_queue_is_seeded_and_moves_up_on_cancellations(make_venue):
    def run(seed: int) -> list[Decimal]:
        v = make_venue(queue="probabilistic", seed=seed)
        v.snapshot(bids=[("100.0", "10")], asks=[("100.1", "10")])
        cid = v.place(BUY, "1", "100.0")
        v.delta(bids=[("100.0", "30")])  # 10 ahead of us, 20 behind
        out = []
        size = 30
        for _ in range(12):
            size -= 1
            v.delta(bids=[("100.0", str(size))])
            out.append(v.ahead(cid))
        return out

    a, b = run(3), run(3)
    assert a == b  # same seed, same queue path
    assert a[-1] < 10  # some cancellations were ahead of us
    assert all(x >= y for x, y in itertools.pairwise(a))  # never moves back
    assert run(3) != run(4) or run(3) != run(5)  # the draws depend on the seed


def test_resting_order_fills_when_the_other_side_crosses_it(venue):
    cid = venue.place(BUY, "1", "99.9")
    assert venue.ahead(cid) == 3
    # The bids at and above ours leave and asks appear at our price: they trade with us.
    venue.delta(bids=[("100.0", "0"), ("99.9", "0")], asks=[("99.9", "0.4")])
    fills = venue.fills(cid)
    assert [(f.price, f.qty, f.liquidity) for f in fills] == [(D("99.9"), D("0.4"), Liquidity.MAKER)]
    # The same resting size is not sold to us again; only the 0.2 added to it is new.
    venue.delta(asks=[("99.9", "0.6")])
    assert venue.filled(cid) == D("0.6")


def test_reduce_only_is_rejected_without_a_position_and_trimmed_to_it(venue):
    r = venue.place(SELL, "1", "100.0", reduce_only=True)
    assert venue.last(r).status is OrderStatus.REJECTED
    assert venue.last(r).reason.startswith("110017")
    venue.place(BUY, "1", "100.1")  # long 1
    ro = venue.place(SELL, "2", "100.0", reduce_only=True)
    assert venue.filled(ro) == 1
    last = venue.last(ro)
    assert last.qty == 1 and last.status is OrderStatus.FILLED
    assert venue.account.position("BTCUSDT").size == 0


def test_reduce_only_resting_order_is_cancelled_when_the_position_is_gone(venue):
    venue.place(BUY, "1", "100.1")
    ro = venue.place(SELL, "1", "100.5", reduce_only=True)
    assert venue.last(ro).status is OrderStatus.NEW
    venue.place(SELL, "1", market=True)  # closes the position elsewhere
    last = venue.last(ro)
    assert last.status is OrderStatus.CANCELLED and last.reason == "CancelByReduceOnly"


def test_average_entry_and_pnl_through_a_position_flip(make_venue):
    v = make_venue()
    v.snapshot(bids=[("90", "10")], asks=[("100", "10")])
    v.place(BUY, "1", market=True)  # long 1 @ 100
    v.snapshot(bids=[("90", "10")], asks=[("110", "10")])
    v.place(BUY, "1", market=True)  # long 2 @ 105
    pos = v.account.position("BTCUSDT")
    assert (pos.size, pos.avg_price) == (2, 105)
    v.snapshot(bids=[("120", "10")], asks=[("130", "10")])
    v.place(SELL, "3", market=True)  # closes 2 (+30), opens short 1 @ 120
    assert (pos.size, pos.avg_price, pos.realized_pnl) == (-1, 120, 30)
    v.snapshot(bids=[("90", "10")], asks=[("100", "10")])
    v.place(BUY, "1", market=True)  # closes the short (+20)
    assert (pos.size, pos.avg_price, pos.realized_pnl) == (0, None, 50)
    fees = D("0.00055") * (100 + 110 + 360 + 100)
    assert v.account.fees_quote == fees
    assert v.account.wallet["USDT"] == D(100000) + 50 - fees
    pushes = [e for e in v.events() if isinstance(e, PositionUpdate)]
    assert [(p.size, p.entry_price, p.realized_pnl) for p in pushes] == [
        (1, 100, 0), (2, 105, 0), (-1, 120, 30), (0, None, 50)]


def test_fee_schedule_is_configurable_including_rebates(make_venue):
    from hayate_paper.fees import FeeRates, FeeSchedule

    fees = FeeSchedule(symbols={"BTCUSDT": FeeRates(maker=D("-0.0001"), taker=D("0.0004"))})
    v = make_venue(fees=fees)
    v.snapshot(bids=[("100.0", "2")], asks=[("100.1", "1")])
    taker = v.place(BUY, "1", "100.1")
    maker = v.place(BUY, "1", "100.0")
    v.trade("100.0", "3", SELL)
    assert v.fills(taker)[0].fee == D("0.04004000")
    assert v.fills(maker)[0].fee == D("-0.01000000")


def test_validation_rejects_with_the_rule_that_failed(venue):
    tick = venue.place(BUY, "1", "100.05")
    step = venue.place(BUY, "0.0005", "100.0")
    small = venue.place(BUY, "0.001", "100.0")
    reasons = [venue.last(c).reason for c in (tick, step, small)]
    assert all(venue.last(c).status is OrderStatus.REJECTED for c in (tick, step, small))
    assert "tick size" in reasons[0] and "qty step" in reasons[1] and "notional" in reasons[2]
    assert all(r.startswith("10001") for r in reasons)


def test_duplicate_client_id_of_an_open_order_is_rejected(venue):
    venue.place(BUY, "1", "99.0", cid="same")
    venue.place(BUY, "1", "99.0", cid="same")
    assert venue.updates("same")[-1].reason.startswith("110072")


def test_insufficient_margin_is_rejected_and_one_way_sides_share_margin(make_venue):
    v = make_venue(balances={"USDT": "100"}, leverage="10")
    v.snapshot(bids=[("100.0", "50")], asks=[("100.1", "50")])
    big = v.place(BUY, "20", "99.0")  # 1980 notional: 198 margin
    assert v.last(big).status is OrderStatus.REJECTED
    assert v.last(big).reason.startswith("110007")
    ok = v.place(BUY, "5", "99.0")  # 49.5 margin
    assert v.last(ok).status is OrderStatus.NEW
    other_side = v.place(SELL, "5", "101.0")  # the larger side counts: only 1 more
    assert v.last(other_side).status is OrderStatus.NEW
    more = v.place(BUY, "6", "99.0")  # 59.4 more margin: too much
    assert v.last(more).status is OrderStatus.REJECTED


def test_spot_balances_locks_and_fee_in_the_received_coin(make_venue):
    v = make_venue("spot", balances={"USDT": "1000", "BTC": "0"})
    v.snapshot(bids=[("99.0", "5")], asks=[("100.1", "5")])
    no_coin = v.place(SELL, "1", "101.0")
    assert v.last(no_coin).status is OrderStatus.REJECTED
    buy = v.place(BUY, "1", "100.1")
    f = v.fills(buy)[0]
    assert (f.fee, f.fee_asset) == (D("0.00100000"), "BTC")  # 0.1 % of 1 BTC
    assert v.account.wallet["BTC"] == D("0.999")
    assert v.account.wallet["USDT"] == D("899.9")
    rest = v.place(BUY, "1", "99.0")  # locks 99 USDT
    assert v.account.free("USDT") == D("800.9")
    too_much = v.place(BUY, "9", "99.0")  # 891 > 800.9
    assert v.last(too_much).status is OrderStatus.REJECTED
    v.act(CancelOrder(symbol="BTCUSDT", client_id=rest))
    assert v.account.free("USDT") == D("899.9")
    sell = v.place(SELL, "0.999", "99.0")  # fee on a sell is in USDT
    f = v.fills(sell)[0]
    assert f.fee_asset == "USDT" and f.fee == D("0.09890100")


def test_amend_keeps_or_loses_queue_priority_like_the_venue(venue):
    cid = venue.place(BUY, "1", "100.0", tif=TimeInForce.POST_ONLY)
    venue.act(AmendOrder(symbol="BTCUSDT", client_id=cid, qty=D("0.5")))
    assert venue.ahead(cid) == 2 and venue.last(cid).qty == D("0.5")
    venue.act(AmendOrder(symbol="BTCUSDT", client_id=cid, price=D("99.9")))
    assert venue.ahead(cid) == 3 and venue.last(cid).price == D("99.9")
    venue.act(AmendOrder(symbol="BTCUSDT", client_id=cid, price=D("100.1")))  # would take
    assert venue.last(cid).status is OrderStatus.CANCELLED
    assert venue.last(cid).reason == "EC_PostOnlyWillTakeLiquidity"


def test_amend_to_a_crossing_price_takes_liquidity_for_a_gtc_order(venue):
    cid = venue.place(BUY, "1", "100.0")
    venue.act(AmendOrder(symbol="BTCUSDT", client_id=cid, price=D("100.1")))
    assert [(f.price, f.liquidity) for f in venue.fills(cid)] == [(D("100.1"), Liquidity.TAKER)]
    assert venue.last(cid).status is OrderStatus.FILLED


def test_amend_below_the_filled_qty_is_refused_and_the_order_stays(venue):
    cid = venue.place(BUY, "1", "100.0")
    venue.trade("100.0", "2.5", SELL)  # fills 0.5
    venue.act(AmendOrder(symbol="BTCUSDT", client_id=cid, qty=D("0.4")))
    last = venue.last(cid)
    assert last.status is OrderStatus.PARTIALLY_FILLED and last.qty == 1
    assert "filled" in last.reason


def test_cancel_cancel_all_and_unknown_cancels(venue):
    a = venue.place(BUY, "1", "99.0")
    b = venue.place(SELL, "1", "101.0")
    c = venue.place(SELL, "1", "102.0")
    venue.act(CancelOrder(symbol="BTCUSDT", client_id=a))
    assert venue.last(a).status is OrderStatus.CANCELLED
    assert venue.last(a).reason == "EC_PerCancelRequest"
    n = len(venue.events())
    venue.act(CancelOrder(symbol="BTCUSDT", client_id="never-placed"))
    assert len(venue.events()) == n  # nothing to report
    venue.act(CancelAll(symbol="BTCUSDT"))
    assert venue.last(b).status is OrderStatus.CANCELLED
    assert venue.last(c).status is OrderStatus.CANCELLED
    assert venue.ex.orders == {}


def test_partially_filled_then_cancelled_keeps_its_filled_qty(venue):
    cid = venue.place(BUY, "1", "100.0")
    venue.trade("100.0", "2.3", SELL)
    venue.act(CancelOrder(symbol="BTCUSDT", client_id=cid))
    last = venue.last(cid)
    assert last.status is OrderStatus.CANCELLED and last.filled_qty == D("0.3")


def test_responses_carry_exchange_time_and_delivery_time(make_venue):
    v = make_venue(response_latency=5_000_000)
    v.snapshot(bids=[("100.0", "1")], asks=[("100.1", "1")])
    cid = v.place(BUY, "0.5", "100.1")
    evs = v.events()
    assert evs and all(e.recv_ts == e.ts + 5_000_000 for e in evs)
    assert v.last(cid).status is OrderStatus.FILLED


def test_inverse_and_option_orders_are_refused_not_misreported(make_venue):
    v = make_venue("inverse")
    v.snapshot(bids=[("100.0", "1")], asks=[("100.1", "1")])
    cid = v.place(BUY, "1", "100.0")
    assert v.last(cid).status is OrderStatus.REJECTED
    assert "not simulated" in v.last(cid).reason
