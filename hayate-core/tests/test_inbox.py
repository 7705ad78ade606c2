"""Overflow policies of the bot's inbox: block, drop_oldest (with a StreamGap), conflate."""

from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hayate.book.book import OrderBook
from hayate.engine.inbox import Inbox, conflate
from hayate.events import BookDelta, BookSnapshot, Side, StreamGap, Ticker, Trade


def delta(i: int, bids: Any = (), asks: Any = (), symbol: str = "X") -> BookDelta:
    return BookDelta(symbol=symbol, ts=i, recv_ts=i, bids=list(bids), asks=list(asks), update_id=i)


@pytest.mark.anyio
async def test_block_makes_the_producer_wait() -> None:
    inbox = Inbox()
    inbox.add_source("s", 2, "block")
    await inbox.put("s", [delta(1)])
    await inbox.put("s", [delta(2)])
    done = anyio.Event()

    async def producer() -> None:
        await inbox.put("s", [delta(3)])
        done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(producer)
        await anyio.wait_all_tasks_blocked()  # the producer got as far as it can
        assert not done.is_set()  # full: the producer is held back, nothing is lost
        got = [await inbox.get() for _ in range(3)]
    assert [b[0].update_id for _, b in got] == [1, 2, 3]  # type: ignore[attr-defined]
    assert inbox.stats()["s"]["dropped"] == 0


@pytest.mark.anyio
async def test_drop_oldest_counts_and_announces_the_gap() -> None:
    inbox = Inbox()
    inbox.add_source("s", 2, "drop_oldest")
    for i in range(1, 5):
        await inbox.put("s", [delta(i)])
    assert inbox.stats()["s"]["dropped"] == 2
    _, first = await inbox.get()
    assert isinstance(first[0], StreamGap) and first[0].dropped == 2 and first[0].source == "s"
    assert first[1].update_id == 3  # type: ignore[attr-defined]
    _, second = await inbox.get()
    assert [e.update_id for e in second] == [4]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_conflate_merges_into_the_newest_batch_of_the_source() -> None:
    inbox = Inbox()
    inbox.add_source("s", 1, "conflate")
    await inbox.put("s", [delta(1, bids=[(100, 5)])])
    await inbox.put("s", [delta(2, bids=[(100, 7), (99, 1)])])
    _, batch = await inbox.get()
    assert len(batch) == 1
    assert sorted(batch[0].bids) == [(99, 1), (100, 7)]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_sources_keep_arrival_order_and_close_ends_the_stream() -> None:
    inbox = Inbox()
    inbox.add_source("a", 10, "block")
    inbox.add_source("b", 10, "block")
    await inbox.put("a", [delta(1)])
    await inbox.put("b", [delta(2)])
    await inbox.put("a", [delta(3)])
    inbox.close()
    order = [(await inbox.get())[0] for _ in range(3)]
    assert order == ["a", "b", "a"]
    with pytest.raises(anyio.EndOfStream):
        await inbox.get()


def test_conflate_keeps_latest_ticker_and_does_not_merge_across_snapshots() -> None:
    t1 = Ticker(symbol="X", ts=1, last_price=None)
    t2 = Ticker(symbol="X", ts=2, last_price=None)
    snap = BookSnapshot(symbol="X", ts=3, bids=[(1, 1)], asks=[])
    trade = Trade(symbol="X", ts=4, price=1, qty=1, side=Side.BUY)
    out = conflate([delta(1, bids=[(1, 1)]), t1, snap, delta(5, bids=[(1, 2)]), t2, trade])
    assert [type(e).__name__ for e in out] == ["BookDelta", "Ticker", "BookSnapshot", "BookDelta",
                                               "Trade"]
    assert out[1] is t2


levels = st.lists(st.tuples(st.integers(90, 110), st.integers(0, 5)), max_size=6)


@given(st.lists(st.tuples(levels, levels), min_size=1, max_size=12))
def test_conflated_deltas_build_the_same_book(updates: list[Any]) -> None:
    """Deltas carry absolute sizes, so merging them loses nothing a book needs."""
    events = [delta(i, bids=b, asks=a) for i, (b, a) in enumerate(updates)]
    direct = OrderBook("X")
    merged = OrderBook("X")
    for ev in events:
        direct.apply_delta(ev.bids, ev.asks)
    for ev in conflate(events):
        merged.apply_delta(ev.bids, ev.asks)  # type: ignore[attr-defined]
    assert direct.bids == merged.bids and direct.asks == merged.asks
    merged.check()


@pytest.mark.anyio
async def test_take_private_hands_over_the_venues_last_reports_in_order() -> None:
    """Teardown takes the private events the dispatcher never reached; market data stays."""
    from decimal import Decimal

    from hayate.events import OrderStatus, OrderUpdate

    def update(cid: str) -> OrderUpdate:
        return OrderUpdate(ts=1, symbol="X", client_id=cid, order_id=cid, side=Side.BUY,
                           status=OrderStatus.CANCELLED, price=Decimal(1), qty=Decimal(1))

    inbox = Inbox()
    inbox.add_source("market", 10, "block")
    inbox.add_source("venue", 10, "block")
    await inbox.put("venue", [update("a")])
    await inbox.put("market", [delta(1), delta(2)])
    await inbox.put("venue", [update("b"), update("c")])
    taken = inbox.take_private()
    assert [(src, ev.client_id) for src, ev in taken] == [("venue", "a"), ("venue", "b"),  # type: ignore[attr-defined]
                                                         ("venue", "c")]
    assert inbox.stats()["venue"]["queued"] == 0 and inbox.take_private() == []
    name, batch = await inbox.get()
    assert name == "market" and [e.update_id for e in batch] == [1, 2]  # type: ignore[attr-defined]
