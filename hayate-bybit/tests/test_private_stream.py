"""``bybit.private`` against the local exchange: login, heartbeat, and nothing lost or
doubled when the stream drops or goes silent while our orders fill."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import SecretStr

from hayate.actions import PlaceOrder
from hayate.events import BalanceUpdate, Fill, OrderStatus, OrderUpdate, PositionUpdate, Side
from hayate_bybit.rest.errors import BybitAuthError
from hayate_testing import StepClock

pytestmark = pytest.mark.anyio

D = Decimal


def bid(cid: str, price: str, qty: str = "0.01") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D(qty), price=D(price), client_id=cid)


def status(h: Any, cid: str) -> OrderStatus | None:
    ups = h.of(OrderUpdate, client_id=cid)
    return ups[-1].status if ups else None


async def silence_passes(h: Any, clock: StepClock, seconds: float) -> None:
    """Step the clock until the collector gives its silent connection up (a step taken
    while it still reads earlier frames counts as time spent reading)."""
    ws = h.collector.socket
    drops = ws.disconnects
    while ws.disconnects == drops:
        clock.advance(seconds)
        looks = ws.silence_checks
        await h.wait_for(lambda looks=looks: ws.silence_checks > looks or ws.disconnects > drops)


async def test_quiet_account_stays_connected(live: Any) -> None:
    """A pong for every ping keeps a stream with nothing to say alive past its watchdog:
    the clock passes twice the silence timeout, one ping interval between pongs."""
    async with live.exchange() as server:
        h = live.Harness(server, private={"ping_interval": 0.05, "silence_timeout": 0.3})
        clock = h.bot.clock  # the harness's StepClock: durations pass when this test says
        async with h.running():
            ws = h.collector.socket
            for _ in range(6):  # 0.6 s on the collector's clock
                frames = ws.frames
                await h.wait_for(lambda frames=frames: ws.frames > frames)  # a pong
                clock.advance(0.1)
            looks = ws.silence_checks
            await h.wait_for(lambda: ws.silence_checks >= looks + 2)  # the watchdog looked
            assert ws.connects == 1 and ws.disconnects == 0
            assert ws.frames >= 6  # pongs: the account had nothing else to say


@pytest.mark.parametrize("fault", ["drop", "silence"])
async def test_fills_while_the_stream_is_down_arrive_once(live: Any, fault: str) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, private={"catch_up_margin": 1.0})
        clock = h.bot.clock  # the harness's StepClock
        async with h.running():
            await h.submit([bid("b1", "29999.5"), bid("b2", "29999.6", "0.02")])
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW
                             and status(h, "b2") is OrderStatus.NEW)
            server.inject(fault, target="private")
            # Both fill while the stream is down: the pushes go nowhere.
            server.push_trade("BTCUSDT", "29999.5", "1", "Sell")
            if fault == "silence":
                await silence_passes(h, clock, 3.1)  # the watchdog's 3 s, on the test's clock
            await h.wait_for(lambda: h.collector.socket.connects == 2)
            if fault == "silence":
                server.inject("clear")
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.FILLED
                             and status(h, "b2") is OrderStatus.FILLED)
            fills = h.of(Fill)
            venue = {e.exec_id for e in h.account.executions}
            assert sorted(f.fill_id for f in fills) == sorted(venue) and len(venue) == 2
            assert h.executor.orders.position("BTCUSDT").size == D("0.03")
            assert h.of(PositionUpdate)[-1].size == D("0.03")
            assert h.of(BalanceUpdate)[-1].total < D(100000)  # fees were paid
            assert h.collector.session.catch_ups == 2
            # The stream's own catch-up found them: the reconciliation had nothing to add.
            await h.wait_for(lambda: h.executor.stats["reconciles"] == 2)
            assert h.executor.stats["reconcile_findings"] == 0
            # A fill after the reconnect comes over the stream, once.
            await h.submit([bid("b3", "29999.4")])
            await h.wait_for(lambda: status(h, "b3") is OrderStatus.NEW)
            server.push_trade("BTCUSDT", "29999.4", "1", "Sell")
            await h.wait_for(lambda: status(h, "b3") is OrderStatus.FILLED)
            # A later fill over the same stream: once it is here, a repeat of b3's would be.
            await h.submit([bid("b4", "29999.3")])
            await h.wait_for(lambda: status(h, "b4") is OrderStatus.NEW)
            server.push_trade("BTCUSDT", "29999.3", "1", "Sell")
            await h.wait_for(lambda: h.of(Fill, client_id="b4"))
            assert len(h.of(Fill, client_id="b3")) == 1 and len(h.of(Fill)) == 4
            assert h.executor.orders.duplicate_fills == 0


async def test_fill_during_the_catch_up_is_not_doubled(live: Any) -> None:
    """A fill the catch-up reads *and* the fresh stream pushes is still one fill."""
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            await h.submit([bid("b1", "29999.5")])
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW)
            catch_up = h.collector.catch_up

            async def slow_catch_up(since: int) -> list[Any]:
                server.push_trade("BTCUSDT", "29999.5", "1", "Sell")  # pushed now, and listed
                return await catch_up(since)

            h.collector.session.catch_up = slow_catch_up
            server.inject("drop", target="private")
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.FILLED)
            # Both copies have come: the second was recognised (and not passed on).
            await h.wait_for(lambda: h.pctx.metrics.counters["duplicate_executions"])
            assert len(h.of(Fill)) == 1


async def test_refused_login_stops_with_the_reason(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server)
        await h.collector.setup()
        h.collector.keys = (SecretStr(live.api_key), SecretStr("wrong-secret"))
        with pytest.raises(BybitAuthError) as info:
            with anyio.fail_after(30):
                await h.collector.run(lambda events: anyio.lowlevel.checkpoint())
        assert "refused the private-stream login" in str(info.value)
        assert "wrong-secret" not in str(info.value)
        await h.collector.aclose()
        await h.executor.aclose()


async def test_unknown_key_is_named_in_the_error(live: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAYATE_BYBIT_API_KEY", "some-other-key")
    async with live.exchange() as server:
        h = live.Harness(server)
        with pytest.raises(BybitAuthError, match=r"10003.*mainnet, testnet and demo"):
            await h.collector.setup()
        await h.collector.aclose()
        await h.executor.aclose()
