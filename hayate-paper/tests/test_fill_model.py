"""The fill-model switches, on hand-computed scenarios: ``partial_fills`` and
``own_depletion`` (docs/paper-exchange.md, "Fill-model switches").

Every scenario starts from the ``venue`` book (BTCUSDT, tick 0.1, step 0.001):

    bids 100.0 x 2 | 99.9 x 3 | 99.8 x 4        asks 100.1 x 1 | 100.2 x 2 | 100.3 x 5

and runs once with the default model and once with the switch, so each test shows what
the switch changes.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from hayate.actions import TimeInForce
from hayate.events import Liquidity, OrderStatus, Side
from hayate_paper.executor import PaperExchangeConfig
from hayate_paper.fill_model import FillModel, parse_own_depletion

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
IOC = TimeInForce.IOC
MS = 1_000_000


def book(make_venue, **fill_model):
    v = make_venue(fill_model=FillModel(**fill_model))
    v.snapshot(bids=[("100.0", "2"), ("99.9", "3"), ("99.8", "4")],
               asks=[("100.1", "1"), ("100.2", "2"), ("100.3", "5")])
    return v


def fills(v, cid):
    return [(f.price, f.qty, f.liquidity) for f in v.fills(cid)]


# -- partial_fills ------------------------------------------------------------------------------

@pytest.mark.parametrize("partial", [True, False])
def test_a_print_with_size_left_after_the_queue(make_venue, partial):
    v = book(make_venue, partial_fills=partial)
    cid = v.place(BUY, "1", "100.0")  # joins behind the 2 shown at 100.0
    v.trade("100.0", "1.5", SELL)  # the queue ahead: 2 -> 0.5, nothing for us
    assert v.fills(cid) == [] and v.ahead(cid) == D("0.5")
    v.trade("100.0", "1", SELL)  # 0.5 to the queue, 0.5 left of the print
    if partial:
        assert fills(v, cid) == [(D("100.0"), D("0.5"), Liquidity.MAKER)]
        assert v.last(cid).status is OrderStatus.PARTIALLY_FILLED
    else:  # the queue is reached and the print goes on: the whole order fills
        assert fills(v, cid) == [(D("100.0"), D("1"), Liquidity.MAKER)]
        assert v.last(cid).status is OrderStatus.FILLED


@pytest.mark.parametrize("partial", [True, False])
def test_a_print_that_only_empties_the_queue_fills_nothing_either_way(make_venue, partial):
    v = book(make_venue, partial_fills=partial)
    cid = v.place(BUY, "1", "100.0")
    v.trade("100.0", "2", SELL)  # exactly the queue ahead
    assert v.fills(cid) == [] and v.ahead(cid) == 0
    v.trade("100.0", "0.25", SELL)  # we are first now
    assert v.filled(cid) == (D("0.25") if partial else D("1"))


@pytest.mark.parametrize("partial", [True, False])
def test_a_trade_through_the_price(make_venue, partial):
    v = book(make_venue, partial_fills=partial)
    cid = v.place(BUY, "1", "99.9")  # behind the 3 shown at 99.9
    v.trade("99.8", "0.1", SELL)  # a sell below our bid: the data swept through 99.9
    if partial:  # the print first works through the queue ahead: 3 -> 2.9, no fill
        assert v.fills(cid) == [] and v.ahead(cid) == D("2.9")
    else:  # the queue at 99.9 is gone and we fill whole, at our price
        assert fills(v, cid) == [(D("99.9"), D("1"), Liquidity.MAKER)]


@pytest.mark.parametrize("partial", [True, False])
def test_a_crossing_level(make_venue, partial):
    v = book(make_venue, partial_fills=partial)
    cid = v.place(BUY, "2", "100.0")
    # The bids at 100.0 leave and an ask of 0.5 arrives at our price.
    v.delta(bids=[("100.0", "0")], asks=[("100.0", "0.5")])
    if partial:  # up to the size shown at our price
        assert fills(v, cid) == [(D("100.0"), D("0.5"), Liquidity.MAKER)]
    else:
        assert fills(v, cid) == [(D("100.0"), D("2"), Liquidity.MAKER)]
        assert v.last(cid).status is OrderStatus.FILLED


def test_whole_fills_judge_each_order_at_a_price_on_its_own(make_venue):
    v = book(make_venue, partial_fills=False)
    first = v.place(BUY, "1", "100.0")
    second = v.place(BUY, "1", "100.0")
    v.trade("100.0", "2.5", SELL)  # 2 for the queue ahead of both, 0.5 left
    assert v.filled(first) == 1 and v.filled(second) == 1


def test_whole_fills_never_exceed_the_order_nor_a_reduce_only_position(make_venue):
    v = book(make_venue, partial_fills=False)
    v.place(BUY, "0.5", "100.1")  # long 0.5 (taker)
    cid = v.place(SELL, "2", "100.2", reduce_only=True)  # trimmed to 0.5, rests
    v.trade("100.3", "0.01", BUY)  # a buyer through 100.2
    assert v.filled(cid) == D("0.5") and v.last(cid).status is OrderStatus.FILLED


# -- own_depletion --------------------------------------------------------------------------------

def test_persist_never_sells_what_we_took_twice(make_venue):
    v = book(make_venue)
    v.place(BUY, "3", "100.2", tif=IOC)  # takes 1 @ 100.1 and 2 @ 100.2
    v.tick(10_000 * MS)  # however long after
    again = v.place(BUY, "1", "100.2", tif=IOC)
    assert v.fills(again) == []


def test_none_forgets_at_once(make_venue):
    v = book(make_venue, own_depletion="none")
    v.place(BUY, "3", "100.2", tif=IOC)
    again = v.place(BUY, "1", "100.2", tif=IOC)
    assert fills(v, again) == [(D("100.1"), D("1"), Liquidity.TAKER)]  # the same 1 again


def test_decay_wears_off_linearly_after_our_last_take(make_venue):
    v = book(make_venue, own_depletion="decay:1s")
    first = v.place(BUY, "3", "100.2", tif=IOC)  # at T: took 1 @ 100.1, 2 @ 100.2
    t_first = v.t
    assert v.filled(first) == 3
    v.t = t_first + 500 * MS - 1_000_000  # the next place() ticks 1 ms: T + 500 ms
    half = v.place(BUY, "1", "100.1", tif=IOC)
    # At 100.1: 1 taken 500 ms ago, half worn off: 0.5 is there again.
    assert fills(v, half) == [(D("100.1"), D("0.5"), Liquidity.TAKER)]
    v.t = t_first + 1000 * MS - 1_000_000  # T + 1 s
    later = v.place(BUY, "2", "100.2", tif=IOC)
    # 100.1: 1.0 remembered as of T + 500 ms (0.5 + 0.5), half worn off now: 0.5 free;
    # 100.2: taken at T, worn off entirely: all 2 free.
    assert fills(v, later) == [(D("100.1"), D("0.5"), Liquidity.TAKER),
                               (D("100.2"), D("1.5"), Liquidity.TAKER)]


def test_decay_never_exceeds_what_the_feed_left(make_venue):
    v = book(make_venue, own_depletion="decay:1s")
    v.place(BUY, "1", "100.1", tif=IOC)  # took the 1 @ 100.1 at T
    t0 = v.t
    v.delta(asks=[("100.1", "0.4")])  # the feed shrinks the level: at most 0.4 is ours
    v.t = t0 + 500 * MS - 1_000_000
    none_yet = v.place(BUY, "1", "100.1", tif=IOC)  # decayed 0.5, capped at 0.4: 0 free
    assert v.fills(none_yet) == []
    v.t = t0 + 800 * MS - 1_000_000
    some = v.place(BUY, "1", "100.1", tif=IOC)  # decayed 0.2: 0.2 free
    assert fills(v, some) == [(D("100.1"), D("0.2"), Liquidity.TAKER)]


def test_crossing_fills_deplete_the_level_too(make_venue):
    for setting in ("persist", "none"):
        v = book(make_venue, own_depletion=setting)
        a = v.place(BUY, "1", "100.0")
        b = v.place(BUY, "1", "100.0")
        v.delta(bids=[("100.0", "0")], asks=[("100.0", "0.5")])
        # One crossing uses the 0.5 once: the first order gets it.
        assert (v.filled(a), v.filled(b)) == (D("0.5"), 0), setting
        v.delta(bids=[("99.8", "7")])  # any later market event checks the cross again
        if setting == "persist":  # the 0.5 was ours: nothing new
            assert (v.filled(a), v.filled(b)) == (D("0.5"), 0)
        else:  # forgotten: the same 0.5 fills us again, at every event while it is shown
            assert (v.filled(a), v.filled(b)) == (D("1"), 0)
            v.delta(bids=[("99.8", "6")])
            assert (v.filled(a), v.filled(b)) == (D("1"), D("0.5"))


# -- settings -------------------------------------------------------------------------------------

def test_own_depletion_settings_are_checked_with_a_clear_message():
    assert parse_own_depletion("decay:250ms") == "decay:0.25s"
    cfg = PaperExchangeConfig(type="paper.exchange", source="m", own_depletion="none")
    assert cfg.own_depletion == "none"
    for bad in ("forever", "decay:", "decay:0s", "decay:soon", 5):
        with pytest.raises(ValidationError, match="own_depletion"):
            PaperExchangeConfig(type="paper.exchange", source="m", own_depletion=bad)


def test_the_local_exchange_takes_the_same_switches():
    from hayate_paper.bybit_server.config import ExchangeOptions

    opts = ExchangeOptions(partial_fills=False, own_depletion="decay:2s")
    assert opts.own_depletion == "decay:2s" and not opts.partial_fills
    with pytest.raises(ValidationError, match="own_depletion"):
        ExchangeOptions(own_depletion="sometimes")
