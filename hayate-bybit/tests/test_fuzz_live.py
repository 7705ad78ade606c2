"""Fuzz and hostile input through the live collectors on loopback: ``bybit.public``
against the local public server, ``bybit.private`` (wrapped by ``bybit.orders``) against
the local exchange.

The bot keeps running: every broken frame is counted and skipped, nothing impossible
reaches the strategy's view, a book that received a bad frame is invalid (the strategy
sees ``BookInvalid``) until the collector resubscribed, and afterwards the book equals
the server's true book again.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hayate.actions import PlaceOrder
from hayate.events import BookInvalid, Fill, OrderStatus, OrderUpdate, Side, Trade
from hayate_bybit.private.events import PrivateRecordRejected
from hayate_bybit.testing import CollectorHarness, PublicServer, instrument_item
from hayate_bybit.testing.hostile import fuzz_settings, hostile_frame, impossible
from hayate_bybit.testing.samples import RECORDINGS_DIR, sample_text

pytestmark = pytest.mark.anyio

BTC = "orderbook.200.BTCUSDT"
ETH = "orderbook.200.ETHUSDT"
ITEMS = [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
         instrument_item("spot", "ETHUSDT", "0.01", "0.00001")]
FRAMES = [x for x in (RECORDINGS_DIR / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl")
          .read_text().splitlines() if x.strip()]
HOSTILE_PER_EXAMPLE = 200
_trade = json.loads(next(f for f in FRAMES if '"publicTrade.BTCUSDT"' in f))
MARKER = json.dumps(dict(_trade, data=[dict(_trade["data"][0], i="marker")]))


def assert_possible(h: CollectorHarness) -> None:
    for ev in h.events:
        problem = impossible(ev)
        assert problem is None, f"{problem}: {ev!r}"[:600]


async def resync_and_compare(h: CollectorHarness, server: PublicServer) -> None:
    """Reconnect, publish the rest of the recording, and compare with the true books."""
    ws = h.collector.sockets[0]
    connects = ws.connects
    await server.drop_connections()
    await h.wait_for(lambda: ws.connects > connects)  # the new books' snapshots wake it
    await server.play()
    await h.wait_for(lambda: h.synced(BTC) and h.synced(ETH), within=30)
    h.assert_matches(BTC)
    h.assert_matches(ETH)


@fuzz_settings(10)
@given(st.lists(hostile_frame(FRAMES), min_size=HOSTILE_PER_EXAMPLE,
                max_size=HOSTILE_PER_EXAMPLE))
async def test_live_collector_survives_hostile_frames(hostile: list[str | bytes]) -> None:
    async with PublicServer("spot", frames=FRAMES, instruments=ITEMS) as server:
        h = CollectorHarness(server, symbols=["BTCUSDT", "ETHUSDT"], depth=200, tickers=True,
                             klines=["1"])
        async with h.running():
            await server.step(30)
            for i, frame in enumerate(hostile):
                await server.send_raw(frame)  # type: ignore[arg-type]  # bytes: a binary frame
                if i % 10 == 9:
                    await server.step(3)  # the real market goes on between broken frames
            # A real trade after the last broken frame: once it is out, the collector read
            # every frame before it, and is still reading.
            await server.send_raw(MARKER)
            await h.wait_for(lambda: any(t.trade_id == "marker" for t in h.of(Trade)))
            await resync_and_compare(h, server)
        assert_possible(h)
        assert h.count("malformed_unexpected") == 0
        rejected = h.collector.summary()["malformed"]
        assert sum(rejected.values()) == h.count("frames_malformed")


async def test_the_issue_frames_live() -> None:
    """The issue's cases on a live collector: counted, skipped, the book distrusted and
    resubscribed (the strategy's view sees BookInvalid, then the true book again)."""
    async with PublicServer("spot", frames=FRAMES, instruments=ITEMS) as server:
        h = CollectorHarness(server, symbols=["BTCUSDT", "ETHUSDT"], depth=200, trades=True)
        async with h.running():
            await server.step(40)
            trade = json.loads(next(f for f in FRAMES if '"publicTrade.BTCUSDT"' in f))
            item = trade["data"][0]
            # A negative trade first (it used to fill the shared size cache a book level
            # then trusted), a trade price of NaN, a trade dated 1973 (12 digits of ms).
            for change in ({"v": "-1000"}, {"p": "NaN"}, {"T": 100_000_000_000}):
                await server.send_raw(json.dumps(dict(trade, data=[dict(item, **change)])))
            # Then book levels: the negative trade's size, a non-ASCII digit, 4,301 digits.
            for size, price in (("-1000", "65000.0"), ("1", "64999.²"), ("1", "1" * 4301)):
                await h.wait_for(lambda: h.synced(BTC))
                book = server.book(BTC)
                invalid = len(h.of(BookInvalid, "BTCUSDT"))
                subscribes = server.subscribes[BTC]
                await server.send_raw(json.dumps({
                    "topic": BTC, "ts": book.ts, "type": "delta", "cts": book.cts,
                    "data": {"s": "BTCUSDT", "b": [[price, size]], "a": [], "u": book.u + 1,
                             "seq": book.seq}}))
                await h.wait_for(lambda n=invalid: len(h.of(BookInvalid, "BTCUSDT")) > n)
                assert h.of(BookInvalid, "BTCUSDT")[-1].reason.startswith("unreadable update")
                assert not h.state.book("BTCUSDT").valid  # what the strategy reads
                await server.wait_for(lambda n=subscribes: server.subscribes[BTC] > n)
                await h.wait_for(lambda: h.synced(BTC))  # the fresh snapshot: the true book
                h.assert_matches(BTC)
            await server.play()
            await h.wait_for(lambda: h.synced(BTC) and h.synced(ETH))
            h.assert_matches(BTC)
            h.assert_matches(ETH)
        assert h.count("malformed_size") == 2 and h.count("malformed_price") == 3
        assert h.count("malformed_time") == 1
        assert all(t.qty > 0 and t.price > 0 for t in h.of(Trade))
        assert_possible(h)


# -- the private stream ---------------------------------------------------------------------------


def bid(cid: str, price: str, qty: str = "0.01") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=Decimal(qty), price=Decimal(price),
                      client_id=cid)


def status(h: Any, cid: str) -> OrderStatus | None:
    ups = h.of(OrderUpdate, client_id=cid)
    return ups[-1].status if ups else None


async def test_a_bad_execution_record_is_reported_and_caught_up(live: Any) -> None:
    """The stream's execution record of a real fill is lost, and a broken one arrives: the
    bot hears of the broken record (logged, counted, PrivateRecordRejected), the collector
    catches up over REST at once (the fill arrives, once), and the executor reconciles."""
    async with live.exchange() as server:
        # A long watchdog: the lost pushes must not be recovered by a reconnect instead.
        h = live.Harness(server, private={"silence_timeout": 60.0, "catch_up_margin": 1.0})
        async with h.running():
            await h.submit([bid("b1", "29999.5")])
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW)
            reconciles = h.executor.stats["reconciles"]
            server.inject("silence", target="private")
            server.push_trade("BTCUSDT", "29999.5", "1", "Sell")  # b1 fills; the push is lost
            await h.wait_for(lambda: len(h.account.executions) == 1)
            server.inject("clear")
            broken = json.loads(sample_text("ws_private_execution.json"))
            broken["data"][0].update(execQty="0.01²", orderLinkId="b1")
            server.inject("malformed", target="private", text=json.dumps(broken))
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.FILLED)
            # PrivateResync(cause="bad_record") made the executor reconcile.
            await h.wait_for(lambda: h.executor.stats["reconciles"] > reconciles)
            [notice] = h.of(PrivateRecordRejected)
            assert (notice.topic, notice.reason) == ("execution", "size")
            assert "0.01²" in notice.raw
            assert [f.client_id for f in h.of(Fill)] == ["b1"]
            assert h.collector.socket.connects == 1  # caught up without a reconnect
            assert h.collector.session.bad_record_catch_ups == 1
        assert h.pctx.bot.metrics.counter_total("private_malformed_size") == 1
        assert h.collector.summary()["private_malformed"] == {"size": 1}
