"""``sim.market``: deterministic, time-ordered, a consistent book, trades that take what
the book shows, and price moves that happen through the book."""

from __future__ import annotations

from typing import Any

from hayate.book.book import OrderBook
from hayate.clock import NS, SimClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import BookDelta, BookSnapshot, Event, Side, Trade
from hayate_paper.market import SimMarket, SimMarketConfig


def _events(seed: int = 0, **cfg: Any) -> tuple[list[Event], SimMarket]:
    bot = BotContext(name="t", clock=SimClock(), seed=seed, out_dir=None, mode="paper",
                     client_ids=ClientIdFactory("s0"))
    ctx = ComponentContext(bot, "market", "sim.market", "collectors")
    m = SimMarket("market", SimMarketConfig.model_validate({"type": "sim.market", **cfg}), ctx)
    return list(m.events()), m


def test_same_seed_same_market_and_the_seed_matters():
    a, _ = _events(duration="2m")
    b, _ = _events(duration="2m")
    c, _ = _events(duration="2m", seed=1)
    assert a == b
    assert a != c


def test_events_are_time_ordered_within_the_duration():
    evs, m = _events(duration="5m")
    assert isinstance(evs[0], BookSnapshot)
    ts = [e.ts for e in evs]
    assert ts == sorted(ts)
    start = m.config.start_time
    assert ts[0] == start and ts[-1] < start + 300 * NS
    assert all(e.recv_ts == 0 for e in evs)  # the consumer decides when they arrive
    assert m.summary()["sim_market_events"] == len(evs)


def test_the_book_stays_consistent_and_trades_take_the_touch():
    evs, m = _events(duration="10m", volatility=1.0, jump_rate=30)
    inst = m.instrument
    book = OrderBook()
    trades = moves = 0
    last_mid = None
    for e in evs:
        if isinstance(e, BookSnapshot):
            book.apply_snapshot(e.bids, e.asks)
        elif isinstance(e, BookDelta):
            book.apply_delta(e.bids, e.asks)
            assert not book.crossed
            assert all(q % inst.step_units == 0 for _, q in (*e.bids, *e.asks))
            mid = book.mid2()
            if last_mid is not None and mid != last_mid:
                moves += 1
            last_mid = mid
        elif isinstance(e, Trade):
            trades += 1
            assert e.qty > 0 and e.price % inst.tick_units == 0
            # A buyer takes the asks (at or above the best ask), a seller the bids.
            if e.side is Side.BUY:
                assert e.price >= book.best_ask
            else:
                assert e.price <= book.best_bid
    assert trades > 1000 and moves > 1000
    assert min(book.levels()) > 0  # never runs dry
