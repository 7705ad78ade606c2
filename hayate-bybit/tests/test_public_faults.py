"""``bybit.public`` against a local Bybit-protocol server fed with real recorded frames.

Each test injects one fault from the issue's list; afterwards the collector must have
recovered and its book (as the ``core.orderbook`` state sees it from the emitted events)
must equal the server's true book rebuilt from the same frames.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from hayate.events import BookInvalid, BookReady, Ticker, Trade
from hayate_bybit.events import Kline
from hayate_bybit.testing import CollectorHarness, PublicServer, instrument_item
from hayate_bybit.ws.session import SubscribeError
from hayate_testing import StepClock, wait_until

pytestmark = pytest.mark.anyio

BTC = "orderbook.200.BTCUSDT"
ETH = "orderbook.200.ETHUSDT"
XRP = "orderbook.200.XRPUSDT"
SPOT_ITEMS = [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
              instrument_item("spot", "ETHUSDT", "0.01", "0.00001")]
XRP_ITEMS = [instrument_item("linear", "XRPUSDT", "0.0001", "1")]
OB1_ITEMS = [instrument_item("linear", "AIOZUSDT", "0.0001", "1"),
             instrument_item("linear", "BANDUSDT", "0.0001", "0.1"),
             instrument_item("linear", "RADUSDT", "0.0001", "0.1"),
             instrument_item("linear", "SNTUSDT", "0.00001", "1")]


def _lines(path: Path) -> list[str]:
    return [x for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture
def spot_frames(recordings: Path) -> list[str]:
    return _lines(recordings / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl")


@pytest.fixture
def xrp_frames(recordings: Path) -> list[str]:
    return _lines(recordings / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl")


def spot_server(frames: list[str], **kw: object) -> PublicServer:
    return PublicServer("spot", frames=frames, instruments=SPOT_ITEMS, **kw)  # type: ignore[arg-type]


def spot_harness(server: PublicServer, clock: StepClock | None = None,
                 **kw: object) -> CollectorHarness:
    """The collector on a clock whose durations only the test moves: a loaded machine
    cannot make a silence (or a re-subscription timeout) that the test did not."""
    return CollectorHarness(server, symbols=["BTCUSDT", "ETHUSDT"], depth=200, tickers=True,
                            klines=["1"], clock=clock or StepClock(), **kw)  # type: ignore[arg-type]


async def silence_passes(h: CollectorHarness, clock: StepClock, seconds: float) -> None:
    """Step the clock by ``seconds`` at a time until the collector gives the connection up
    (a step taken while it still reads earlier frames counts as time spent reading)."""
    ws = h.collector.sockets[0]
    drops = ws.disconnects
    while ws.disconnects == drops:
        clock.advance(seconds)
        looks = ws.silence_checks
        await wait_until(lambda looks=looks: ws.silence_checks > looks or ws.disconnects > drops,
                         what="the silence watchdog")


async def finish(h: CollectorHarness, *topics: str) -> None:
    """Publish the rest of the recording and wait until every book caught up with it."""
    await h.server.play()
    await h.wait_for(lambda: all(h.synced(t) for t in topics))
    for t in topics:
        h.assert_matches(t)


async def test_clean_run_spot_every_topic(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await finish(h, BTC, ETH)
        assert h.count("frames_malformed") == 0
        assert h.count("frames_unknown_topic") == 0
        assert h.count("subscribe_acks") >= 1
        assert len(h.of(BookReady)) == 2 and not h.of(BookInvalid)
        assert h.of(Trade) and h.of(Ticker) and h.of(Kline)
        ticker = h.of(Ticker, "BTCUSDT")[-1]
        assert ticker.last_price is not None and ticker.fields["symbol"] == "BTCUSDT"
        # Spot trades carry exact units of the instrument.
        trade = h.of(Trade, "BTCUSDT")[0]
        assert h.ctx.instruments["BTCUSDT"].price(trade.price) == trade.price / 10


async def test_dropped_connection_resyncs(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await server.step(100)
            await server.drop_connections()
            await h.wait_for(lambda: len(h.of(BookInvalid)) == 2)
            assert all("connection lost" in e.reason for e in h.of(BookInvalid))
            await server.step(50)  # the market moves on while we are away
            await server.wait_for(lambda: server.subscribes.get(BTC, 0) >= 2)
            await h.wait_for(lambda: len(h.of(BookReady)) == 4)
            await finish(h, BTC, ETH)
        assert h.collector.sockets[0].connects == 2


async def test_silent_feed_is_detected(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        clock = StepClock()
        h = spot_harness(server, clock, silence_timeout=0.3)
        async with h.running():
            await server.step(50)
            server.silence()
            await server.step(50)  # sent to no one: the socket stays open but says nothing
            await silence_passes(h, clock, 0.31)
            await h.wait_for(lambda: len(h.of(BookInvalid)) == 2)
            assert "no message for 0.3s" in h.of(BookInvalid)[0].reason
            await h.wait_for(lambda: len(h.of(BookReady)) == 4)
            await finish(h, BTC, ETH)


async def test_gap_in_u_invalidates_and_resubscribes(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await server.step(40)
            server.skip_next_delta(BTC)
            await server.step(40)
            await h.wait_for(lambda: bool(h.of(BookInvalid, "BTCUSDT")))
            assert h.of(BookInvalid, "BTCUSDT")[0].reason.startswith("gap in u")
            await server.wait_for(lambda: server.subscribes.get(BTC, 0) >= 2)
            await h.wait_for(lambda: len(h.of(BookReady, "BTCUSDT")) == 2)
            await finish(h, BTC, ETH)
        assert not h.of(BookInvalid, "ETHUSDT")  # only the broken topic was touched
        assert h.count("book_gaps") == 1 and h.count("resubscribes") == 1


@pytest.mark.parametrize("label", ["snapshot", "delta"])
async def test_u_equals_1_restart_resets_the_book(spot_frames: list[str], label: str) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await server.step(60)
            await server.restart_topic(BTC, label)
            await h.wait_for(lambda: h.state.book("BTCUSDT").update_id == 1)
            await finish(h, BTC, ETH)
        assert not h.of(BookInvalid)  # a restart is a reset, not a failure
        assert h.count("book_restarts") == 1
        assert server.subscribes[BTC] == 1


async def test_level1_repeated_snapshots_are_normal(recordings: Path) -> None:
    frames = _lines(recordings / "bybit_linear_4sym_ob1_2025-06-13.jsonl")
    topics = [f"orderbook.1.{s}" for s in ("AIOZUSDT", "BANDUSDT", "RADUSDT", "SNTUSDT")]
    async with PublicServer("linear", frames=frames, instruments=OB1_ITEMS) as server:
        h = CollectorHarness(server, symbols=["AIOZUSDT", "BANDUSDT", "RADUSDT", "SNTUSDT"],
                             depth=1, trades=False)
        async with h.running():
            await server.step(30)
            for _ in range(3):
                await server.repeat_snapshot(topics[0])
            await finish(h, *topics)
        assert not h.of(BookInvalid)
        assert h.count("resubscribes") == 0
        assert all(server.subscribes[t] == 1 for t in topics)


async def test_crossing_update_invalidates_and_resubscribes(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await server.step(30)
            await server.send_crossing(ETH)
            await h.wait_for(lambda: bool(h.of(BookInvalid, "ETHUSDT")))
            assert h.of(BookInvalid, "ETHUSDT")[0].reason.startswith("crossed")
            await h.wait_for(lambda: len(h.of(BookReady, "ETHUSDT")) == 2)
            await finish(h, BTC, ETH)
        assert h.count("book_crossed") == 1 and server.subscribes[ETH] == 2


async def test_malformed_and_unknown_frames_are_counted_and_skipped(
        spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await server.step(30)
            await server.send_raw('{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,"da')
            await server.send_raw("not json at all")
            await server.send_raw('{"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1,'
                                  '"data":{}}')
            await server.send_raw('{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,'
                                  '"data":{"s":"BTCUSDT","b":"oops","a":[],"u":1}}')
            await server.send_raw('{"something":"else"}')
            await finish(h, BTC, ETH)
        assert h.count("frames_malformed") == 3
        assert h.count("malformed_json") == 2 and h.count("malformed_fields") == 1
        assert h.count("frames_unknown_topic") == 1
        assert h.count("frames_unknown") == 1
        # A broken frame of a book may have carried a change: that book (only) was
        # distrusted until its fresh snapshot, which finish() saw arrive.
        [inv] = h.of(BookInvalid)
        assert inv.symbol == "BTCUSDT" and inv.reason.startswith("malformed frame (json)")
        assert h.collector.summary()["malformed"] == {"fields": 1, "json": 2}


async def test_number_off_the_grid_invalidates_until_a_fresh_snapshot(
        spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        h = spot_harness(server)
        async with h.running():
            await server.step(30)
            u = server.book(BTC).u + 1
            await server.send_raw('{"topic":"orderbook.200.BTCUSDT","ts":1,"type":"delta",'
                                  '"data":{"s":"BTCUSDT","b":[["65000.05","1"]],"a":[],'
                                  f'"u":{u},"seq":1}},"cts":1}}')
            await h.wait_for(lambda: bool(h.of(BookInvalid, "BTCUSDT")))
            assert "unreadable" in h.of(BookInvalid, "BTCUSDT")[0].reason
            await h.wait_for(lambda: len(h.of(BookReady, "BTCUSDT")) == 2)
            await finish(h, BTC, ETH)


async def test_slow_consumer_is_not_a_silent_feed(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        clock = StepClock()
        h = spot_harness(server, clock, silence_timeout=0.2)
        async with h.running():
            h.gate = anyio.Event()
            await server.step(200)
            with anyio.fail_after(30):
                await h.held.wait()  # the consumer is stuck in emit...
            ws = h.collector.sockets[0]
            clock.advance(0.6)  # ...for three silence timeouts...
            looks = ws.silence_checks
            await wait_until(lambda: ws.silence_checks >= looks + 2)  # ...while the watchdog looks
            h.gate.set()
            h.gate = None
            await finish(h, BTC, ETH)
        assert h.collector.sockets[0].connects == 1
        assert not h.of(BookInvalid)


async def test_slow_consumer_dropped_by_the_venue_resyncs(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames, max_pending=20, write_limit=4096) as server:
        h = spot_harness(server)
        async with h.running():
            h.gate = anyio.Event()
            # Snapshots are ~8 KB each: a few hundred fill every buffer on the way.
            with anyio.fail_after(30):
                while not server.slow_closes:
                    await server.repeat_snapshot(BTC)
                    await anyio.lowlevel.checkpoint()
            h.gate.set()
            h.gate = None
            await h.wait_for(lambda: h.collector.sockets[0].connects == 2)
            await h.wait_for(lambda: len(h.of(BookReady)) == 4)
            await finish(h, BTC, ETH)
        assert server.slow_closes == 1


async def test_linear_shapes_pagination_and_heartbeat(xrp_frames: list[str]) -> None:
    items = [*XRP_ITEMS, instrument_item("linear", "BTCUSDT", "0.10", "0.001")]
    async with PublicServer("linear", frames=xrp_frames, instruments=items, page_size=1,
                            rename_topics={"orderbook.500.XRPUSDT": XRP}) as server:
        h = CollectorHarness(server, symbols=["XRPUSDT"], depth=200, ping_interval=0.05)
        async with h.running():
            await server.wait_for(lambda: server.pings >= 2)
            await finish(h, XRP)
            await h.wait_for(lambda: h.count("pongs") >= 2)
        # Two instruments, one per page: the collector followed the cursor.
        assert any("cursor=1" in r for r in server.http_requests)
        inst = h.ctx.instruments["XRPUSDT"]
        assert (inst.price_decimals, inst.qty_decimals) == (4, 0)
        assert len(h.state.book("XRPUSDT").bids) == 500


async def test_refused_subscription_fails_loudly(spot_frames: list[str]) -> None:
    async with spot_server(spot_frames) as server:
        server.refuse.add("publicTrade.ETHUSDT")
        h = spot_harness(server)
        await h.collector.setup()
        with pytest.raises(SubscribeError, match=r"publicTrade\.ETHUSDT"):
            await h.collector.run(h.emit)


async def test_unknown_symbol_is_a_config_error(spot_frames: list[str]) -> None:
    from hayate.exceptions import ConfigError

    async with spot_server(spot_frames) as server:
        h = CollectorHarness(server, symbols=["BTCUSDC"], depth=50)
        with pytest.raises(ConfigError, match=r"BTCUSDC.*did you mean BTCUSDT"):
            await h.collector.setup()

