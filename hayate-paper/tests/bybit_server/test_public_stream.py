"""The public book stream is a correct Bybit stream: a client that applies the snapshot and
then every delta holds exactly the server's top ``depth`` levels, ``u`` steps by one, and
no delete names a price the client does not have. Checked by a property test on the topic
and end to end by Hayate's own ``bybit.public`` collector (strict about sequencing)."""

from __future__ import annotations

import random
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.instruments import Instrument
from hayate_bybit.testing import CollectorHarness
from hayate_paper.bybit_server import BybitServer, public_ws
from hayate_paper.bybit_server.market import SymbolMarket
from hayate_paper.bybit_server.public_ws import BookTopic
from hayate_paper.bybit_server.testing import WsClient, local_config, local_exchange

INST = Instrument(symbol="BTCUSDT", category="linear", tick_size=Decimal("0.1"),
                  qty_step=Decimal("0.001"))


class Capture:
    """Stands in for a connection: keeps what the topic sends."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.skip: set[str] = set()

    def send(self, text: str) -> None:
        import json

        self.frames.append(json.loads(text))


def _apply(book: dict[str, dict[str, str]], frame: dict[str, Any]) -> None:
    if frame["type"] == "snapshot":
        book["b"] = {}
        book["a"] = {}
    for side in ("b", "a"):
        for p, q in frame["data"][side]:
            if q == "0":
                assert p in book[side], f"delete of unknown price {p}"
                del book[side][p]
            else:
                book[side][p] = q


levels = st.lists(st.tuples(st.sampled_from("ba"), st.integers(-30, 30), st.integers(0, 5)),
                  max_size=12)


@settings(max_examples=150, deadline=None)
@given(depth=st.sampled_from([1, 50, 200]), window=st.integers(1, 8),
       steps=st.lists(levels, min_size=1, max_size=25))
def test_deltas_rebuild_the_top_of_the_book(depth: int, window: int,
                                           steps: list[list[tuple[str, int, int]]]) -> None:
    sm = SymbolMarket(INST)
    center = 1000
    sm.book.apply_snapshot([(center - i, 1000) for i in range(1, 20)],
                           [(center + i, 1000) for i in range(0, 20)])
    topic = BookTopic(sm, depth if depth != 50 else window)
    client = Capture()
    topic.subs.add(client)  # type: ignore[arg-type]
    client.send(topic.snapshot_now())
    for step in steps:
        bids = [(center - 1 - off if off >= 0 else center - 1 + off, q * 1000)
                for side, off, q in step if side == "b"]
        asks = [(center + abs(off), q * 1000) for side, off, q in step if side == "a"]
        sm.book.apply_delta(bids, asks)
        if sm.book.crossed:
            sm.book.apply_snapshot(list(sm.book.iter_bids()),
                                   [(p, q) for p, q in sm.book.iter_asks() if p > (sm.book.best_bid or 0)])
        topic.publish()
    book: dict[str, dict[str, str]] = {"b": {}, "a": {}}
    last_u = 0
    for frame in client.frames:
        _apply(book, frame)
        u = frame["data"]["u"]
        assert u == last_u + 1 or (depth == 1 and frame["type"] == "snapshot" and u >= last_u)
        last_u = u
        assert len(book["b"]) <= topic.depth and len(book["a"]) <= topic.depth
        if depth == 1:
            assert frame["type"] == "snapshot"  # level 1 sends snapshots only
    want_b = {sm.px(p): sm.qty(q) for p, q in sm.book.iter_bids(topic.depth)}
    want_a = {sm.px(p): sm.qty(q) for p, q in sm.book.iter_asks(topic.depth)}
    assert book == {"b": want_b, "a": want_a}


@pytest.mark.anyio
async def test_hayate_collector_follows_the_stream(server: BybitServer) -> None:
    """``bybit.public`` reads instruments over REST and books over the stream; after a
    random walk of the book its view equals the server's top 50, without any gap."""
    adapter = SimpleNamespace(ws_url=server.public_url("linear"), rest_url=server.base_url,
                              category="linear", books={})
    h = CollectorHarness(adapter, symbols=["BTCUSDT"], depth=50, trades=True)  # type: ignore[arg-type]
    rng = random.Random(7)
    sm = server.market.symbols["BTCUSDT"]  # type: ignore[union-attr]

    def caught_up() -> bool:
        book = h.state.books.get("BTCUSDT")
        return (book is not None and book.valid
                and book.bids == dict(sm.book.iter_bids(50))
                and book.asks == dict(sm.book.iter_asks(50)))

    async with h.running():
        for i in range(300):
            mid = rng.randint(995, 1005)
            bids = [(Decimal(mid - rng.randint(1, 40)) / 10, rng.choice(["0", "1.5", "3"]))
                    for _ in range(4)]
            asks = [(Decimal(mid + rng.randint(0, 40)) / 10, rng.choice(["0", "2", "0.5"]))
                    for _ in range(4)]
            server.push_book("BTCUSDT", bids, asks, snapshot=False)
            if sm.book.crossed:  # keep the test market sane: replace a crossed book
                server.push_book("BTCUSDT", [("99.0", "1")], [("101.0", "1")])
            if rng.random() < 0.2:
                server.push_trade("BTCUSDT", "100.0", "0.1", "Sell")
            if i % 10 == 9:  # a walk of many deltas: the client follows each stretch of it
                await h.wait_for(caught_up)
        await h.wait_for(caught_up)
        stats = h.collector.summary()["book_sequencing"]
        assert stats.get("gaps", 0) == 0 and stats.get("crossed", 0) == 0, stats
        assert h.count("ws_reconnects") == 0


@pytest.mark.anyio
async def test_level_one_repeats_its_snapshot_when_idle(server: BybitServer, ws_connect: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_ws, "LEVEL1_REPEAT", 0.2)
    ws: WsClient = await ws_connect(server.public_url("linear"))
    await ws.send({"op": "subscribe", "args": ["orderbook.1.BTCUSDT"]})
    first = await ws.wait_for(lambda f: f.get("topic") == "orderbook.1.BTCUSDT")
    again = await ws.wait_for(lambda f: f.get("topic") == "orderbook.1.BTCUSDT",
                              start=ws.frames.index(first) + 1)
    assert again["type"] == "snapshot" and again["data"]["u"] == first["data"]["u"]
    assert again["data"]["b"] == first["data"]["b"] == [["100.0", "2.000"]]
    server.push_book("BTCUSDT", [("100.0", "7")], [], snapshot=False)
    moved = await ws.wait_for(lambda f: f.get("topic") == "orderbook.1.BTCUSDT"
                              and f["data"]["b"] == [["100.0", "7.000"]])
    assert moved["type"] == "snapshot" and moved["data"]["u"] == first["data"]["u"] + 1


@pytest.mark.anyio
async def test_subscription_refusals(server: BybitServer, ws_connect: Any) -> None:
    ws: WsClient = await ws_connect(server.public_url("linear"))
    await ws.send({"req_id": "r1", "op": "subscribe", "args": ["orderbook.50.NOSUCH"]})
    bad = await ws.wait_for(lambda f: f.get("req_id") == "r1")
    assert bad["success"] is False and "NOSUCH" in bad["ret_msg"]
    await ws.send({"req_id": "r2", "op": "subscribe", "args": ["orderbook.50.ETHUSDT"]})
    wrong_category = await ws.wait_for(lambda f: f.get("req_id") == "r2")
    assert wrong_category["success"] is False  # ETHUSDT is spot here
    await ws.send({"req_id": "r3", "op": "subscribe", "args": ["orderbook.500.BTCUSDT"]})
    assert (await ws.wait_for(lambda f: f.get("req_id") == "r3"))["success"] is False
    await ws.send({"req_id": "r4", "op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
    assert (await ws.wait_for(lambda f: f.get("req_id") == "r4"))["success"] is True
    await ws.send({"req_id": "r5", "op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
    dup = await ws.wait_for(lambda f: f.get("req_id") == "r5")
    assert dup["success"] is False and "already" in dup["ret_msg"]
    spot: WsClient = await ws_connect(server.public_url("spot"))
    await spot.send({"req_id": "s1", "op": "subscribe",
                     "args": [f"tickers.ETHUSDT{'x' * i}" for i in range(11)]})
    assert (await spot.wait_for(lambda f: f.get("req_id") == "s1"))["success"] is False


@pytest.mark.anyio
async def test_a_simulated_source_is_paced_on_the_wall_clock(ws_connect: Any) -> None:
    """``sim.market`` as the source: a live book and trades, u contiguous."""
    cfg = local_config(instruments=[], market={
        "type": "sim.market", "symbol": "SIMUSDT", "tick_size": "0.1", "qty_step": "0.001",
        "start_price": "100", "trade_rate": 40.0, "book_interval": 0.02, "duration": "1h"})
    source_times: list[int] = []
    started = time.monotonic_ns()
    async with local_exchange(cfg) as server:
        server.market.listeners.append(  # type: ignore[union-attr]
            lambda events, _t, _changes: source_times.extend(e.ts for e in events))
        ws: WsClient = await ws_connect(server.public_url("linear"))
        await ws.send({"op": "subscribe", "args": ["orderbook.50.SIMUSDT", "publicTrade.SIMUSDT"]})
        await ws.wait_for(lambda f: f.get("topic") == "publicTrade.SIMUSDT")
        await ws.wait_until(lambda: sum(1 for f in ws.frames if f and f.get("type") == "delta") >= 5)
        lived = time.monotonic_ns() - started
        us = [f["data"]["u"] for f in ws.frames if f and str(f.get("topic")).startswith("orderbook")]
        assert us == list(range(us[0], us[0] + len(us)))
        # Paced: the source never ran ahead of the wall clock (unpaced, the hour would have
        # been played at once); a loaded machine only makes it lag further behind.
        assert source_times and max(source_times) - min(source_times) <= lived
