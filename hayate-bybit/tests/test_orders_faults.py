"""``bybit.orders`` under the local exchange's faults: lost answers, 5xx, 10006 bursts,
dropped sockets, a silent private stream, duplicate and excess executions.

The promise under test: an order is placed at most once whatever fails (a retry reuses
its ``orderLinkId``; an unknown outcome is resolved by a query), the bot learns where each
order stands, and no fill is counted twice.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from hayate.actions import CancelOrder, PlaceOrder
from hayate.events import Fill, OrderStatus, OrderUpdate, Side
from hayate_bybit.rest.errors import BybitAuthError

pytestmark = pytest.mark.anyio

D = Decimal


def bid(cid: str, price: str = "29990.0", qty: str = "0.01") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D(qty), price=D(price), client_id=cid)


def status(h: Any, cid: str) -> OrderStatus | None:
    ups = h.of(OrderUpdate, client_id=cid)
    return ups[-1].status if ups else None


def placed(h: Any, cid: str) -> list[Any]:
    """Every order the exchange ever accepted with this orderLinkId."""
    return [o for o in h.account.orders.values() if o.link_id == cid]


@pytest.mark.parametrize("transport", ["rest", "ws"])
async def test_lost_answer_on_create_never_duplicates(live: Any, transport: str) -> None:
    """The create's answer comes too late: the executor looks the order up, and whatever
    it finds or re-sends, the exchange ends up with exactly one order."""
    async with live.exchange() as server:
        h = live.Harness(server, transport=transport, request_timeout=0.3)
        async with h.running():
            if transport == "ws":
                await h.wait_for(lambda: h.executor.trade.ready)
            server.inject("delay", ms=800, seconds=1.0)
            await h.submit([bid("t1")])
            await h.wait_for(lambda: status(h, "t1") is OrderStatus.NEW)
            await server.settled()  # the delayed original has been handled too
            assert len(placed(h, "t1")) == 1
            assert h.account.counts["orders"] == 1
            order_id = placed(h, "t1")[0].order_id
            assert h.of(OrderUpdate, client_id="t1")[-1].order_id == order_id
            assert h.ectx.metrics.counters["requests_outcome_unknown"]  # the answer was lost
            assert h.executor.orders.get("t1").status is OrderStatus.NEW


async def test_create_that_never_arrived_is_sent_again_with_the_same_link_id(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            server.inject("http_error", count=1, status=503)
            await h.submit([bid("t1")])
            await h.wait_for(lambda: status(h, "t1") is OrderStatus.NEW)
            assert len(placed(h, "t1")) == 1
            assert h.executor.stats["resends"] == 1


async def test_10006_bursts_delay_orders_but_place_each_once(live: Any) -> None:
    async with live.exchange(rate_limits={"/v5/order/create": 3}) as server:
        h = live.Harness(server, batch=False)
        async with h.running():
            server.inject("rate_limit", count=4)  # refuse the next four private requests
            started = time.monotonic()
            await h.submit([bid(f"b{i}", price=f"2999{i}.0") for i in range(8)])
            await h.wait_for(lambda: all(status(h, f"b{i}") is OrderStatus.NEW
                                         for i in range(8)))
            assert all(len(placed(h, f"b{i}")) == 1 for i in range(8))
            assert not h.of(OrderUpdate, status=OrderStatus.REJECTED)
            limiter = h.executor.rest.limiter
            assert limiter.refusals >= 4  # the injected ones, waited out until the reset
            # Three creates a second at most: the burst of eight took over two seconds (a
            # lower bound, which a loaded machine only makes easier to meet).
            assert time.monotonic() - started > 1.9


async def test_an_unreadable_batch_answer_is_resolved_by_asking(live: Any) -> None:
    """A batch answer whose item codes are not numbers (and whose rate-limit headers are
    not plain digits) stops nothing: each order's fate is looked up, each is placed once."""
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            server.inject("garble", count=1)
            await h.submit([bid("g1"), bid("g2", price="29980.0")])
            await h.wait_for(lambda: status(h, "g1") is OrderStatus.NEW
                             and status(h, "g2") is OrderStatus.NEW)
            assert server.faults.garbles_left == 0  # the batch answer was the garbled one
            assert h.executor.stats["unreadable_answers"] == 2
            assert len(placed(h, "g1")) == 1 and len(placed(h, "g2")) == 1
            await h.submit([bid("g3", price="29970.0")])  # and the executor goes on
            await h.wait_for(lambda: status(h, "g3") is OrderStatus.NEW)


async def test_trade_socket_dropped_mid_request(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, transport="ws", request_timeout=5.0)
        async with h.running():
            await h.wait_for(lambda: h.executor.trade.ready)
            server.inject("delay", ms=400, seconds=0.5)
            await h.submit([bid("w1"), bid("w2", price="29980.0")])
            server.inject("drop", target="trade")  # answers lost with the connection
            await h.wait_for(lambda: status(h, "w1") is OrderStatus.NEW
                             and status(h, "w2") is OrderStatus.NEW)
            await server.settled()  # every request sent before the drop has had its effect
            assert len(placed(h, "w1")) == 1 and len(placed(h, "w2")) == 1
            assert h.executor.trade.lost >= 1
            await h.wait_for(lambda: h.executor.trade.ready)  # reconnected and logged in


async def test_unconfirmed_order_is_resolved_by_query(live: Any) -> None:
    """The private stream goes quiet right after the order is sent: the executor does not
    wait forever, it asks the venue after ``unconfirmed_timeout``."""
    async with live.exchange() as server:
        h = live.Harness(server, unconfirmed_timeout=0.5,
                         private={"silence_timeout": 30.0, "ping_interval": 10.0})
        async with h.running():
            server.inject("silence", target="private")
            await h.submit([bid("u1")])
            await h.wait_for(lambda: status(h, "u1") is OrderStatus.NEW)
            assert h.executor.stats["resolved"] == 1
            server.inject("clear")


async def test_cancel_waits_for_the_create(live: Any) -> None:
    """A cancel sent before the create was answered would reach an order Bybit does not
    know yet; it is held until the create is acknowledged, then sent."""
    async with live.exchange() as server:
        h = live.Harness(server, transport="ws")
        async with h.running():
            await h.wait_for(lambda: h.executor.trade.ready)
            server.inject("delay", ms=200, seconds=1.0)
            await h.submit([bid("c1")])
            await h.submit([CancelOrder(symbol="BTCUSDT", client_id="c1")])
            await h.wait_for(lambda: status(h, "c1") is OrderStatus.CANCELLED)
            assert not h.executor.stats["resolved"]
            assert not [o for o in placed(h, "c1") if o.is_open]


def _execution_frame(e: dict[str, Any]) -> str:
    return json.dumps({"id": "x", "topic": "execution", "creationTime": int(time.time() * 1000),
                       "data": [e]})


async def test_duplicate_and_excess_executions(live: Any) -> None:
    """A re-sent execution changes nothing; an execution beyond the order's size is
    counted as an overfill (and still moves the position: the venue says it happened)."""
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            await h.submit([bid("f1", price="29999.5")])
            await h.wait_for(lambda: status(h, "f1") is OrderStatus.NEW)
            server.push_trade("BTCUSDT", "29999.5", "1", "Sell")
            await h.wait_for(lambda: h.of(Fill, client_id="f1"))
            real = next(iter(h.account.executions))
            record = {"category": "linear", "symbol": "BTCUSDT", "execId": real.exec_id,
                      "orderId": real.order_id, "orderLinkId": "f1", "side": "Buy",
                      "execPrice": "29999.5", "execQty": "0.010", "execType": "Trade",
                      "execFee": "0.01", "feeCurrency": "USDT", "isMaker": True,
                      "leavesQty": "0.000", "execTime": str(int(time.time() * 1000))}
            server.inject("malformed", target="private", text=_execution_frame(record))
            extra = dict(record, execId="extra-1", execQty="0.005")
            server.inject("malformed", target="private", text=_execution_frame(extra))
            await h.wait_for(lambda: h.of(Fill, fill_id="extra-1"))
            assert len(h.of(Fill, client_id="f1")) == 2  # the real one and the excess one
            assert h.executor.orders.overfills == 1
            assert h.executor.orders.position("BTCUSDT").size == D("0.015")
            assert h.pctx.metrics.counters["duplicate_executions"]


async def test_wrong_secret_is_a_clear_error(live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAYATE_BYBIT_API_SECRET", "not-the-secret")
    async with live.exchange() as server:
        h = live.Harness(server)
        with pytest.raises(BybitAuthError) as info:
            await h.executor.setup()
        text = str(info.value)
        assert "10004" in text and "check the API secret" in text
        assert "not-the-secret" not in text and live.api_key not in text
        await h.executor.aclose()
        await h.collector.aclose()


async def test_periodic_check_recovers_a_push_lost_without_a_disconnect(live: Any) -> None:
    """The stream stays up but a push never arrives: the periodic reconciliation finds
    the fill and the order's end, once each."""
    async with live.exchange() as server:
        h = live.Harness(server, reconcile_interval=1.0,
                         private={"silence_timeout": 30.0, "ping_interval": 10.0})
        async with h.running():
            await h.submit([bid("p1", price="29999.5")])
            await h.wait_for(lambda: status(h, "p1") is OrderStatus.NEW)
            server.inject("silence", target="private", seconds=0.3)
            server.push_trade("BTCUSDT", "29999.5", "1", "Sell")  # its pushes are lost
            await h.wait_for(lambda: status(h, "p1") is OrderStatus.FILLED)
            await h.wait_for(lambda: h.executor.orders.position("BTCUSDT").size == D("0.01"))
            assert len(h.of(Fill, client_id="p1")) == 1
            assert h.collector.socket.connects == 1  # no reconnect was needed
            checks = h.executor.stats["reconciles"]
            await h.wait_for(lambda: h.executor.stats["reconciles"] >= checks + 2)
            # Two more checks, each done with what it found: nothing new to say.
            assert len(h.of(Fill, client_id="p1")) == 1
            assert h.executor.orders.duplicate_fills == 0


async def test_a_new_bot_does_not_count_the_fills_of_the_one_before(live: Any) -> None:
    """A bot started (no journal) just after another traded on the account: its periodic
    checks look back a little for fills the stream lost, but never to before its own start
    (the start took the venue's position as it was), so the earlier bot's fill is not its."""
    async with live.exchange() as server:
        first = live.Harness(server)
        async with first.running():
            await first.submit([bid("a1", price="29999.5")])
            await first.wait_for(lambda: status(first, "a1") is OrderStatus.NEW)
            server.push_trade("BTCUSDT", "29999.5", "1", "Sell")
            await first.wait_for(lambda: first.of(Fill, client_id="a1"))
        (fill,) = first.of(Fill, client_id="a1")
        second = live.Harness(server, reconcile_interval=0.2)
        async with second.running():
            # The start adopts the position the first bot left (one finding, no fill).
            assert second.executor.notes == [
                "start: BTCUSDT position is 0.010 at the venue, 0 by the bot's fills: adopted"]
            # Checks go on until one is past the grace a periodic check gives the stream
            # (3 s) and still within its look-back (10 s) of the fill.
            ex = second.executor
            await second.wait_for(lambda: ex._last_check_ms * 1_000_000 > fill.ts + 3.5e9)
            assert not second.of(Fill), second.of(Fill)
            assert not ex.orders.seen_fills and len(ex.notes) == 1, ex.notes


async def test_cancel_of_a_create_still_waiting_for_the_limit_sends_neither(live: Any) -> None:
    async with live.exchange(rate_limits={"/v5/order/create": 2}) as server:
        h = live.Harness(server, batch=False)
        async with h.running():
            h.executor.rest.limiter.overrides["/v5/order/create"] = 2  # as Bybit announces
            await h.submit([bid(f"q{i}", price=f"2999{i}.0") for i in range(5)])
            await h.wait_for(lambda: len(h.account.orders) == 2)  # two went, three wait
            await h.submit([CancelOrder(symbol="BTCUSDT", client_id=f"q{i}") for i in (3, 4)])
            await h.wait_for(lambda: all(status(h, f"q{i}") is OrderStatus.NEW for i in range(3)))
            assert status(h, "q3") is status(h, "q4") is OrderStatus.CANCELLED
            assert "before it was sent" in h.of(OrderUpdate, client_id="q4")[-1].reason
            # A later create goes out only once the five before it have gone or dropped out
            # (one batch after the other): once it is placed, so would q3 and q4 have been.
            await h.submit([bid("q5", price="29985.0")])
            await h.wait_for(lambda: status(h, "q5") is OrderStatus.NEW)
            assert not placed(h, "q3") and not placed(h, "q4")
            assert h.executor.stats["withdrawn"] == 2
            assert not h.executor.orders.pending(0, h.executor._now() + 1)


async def test_service_restart_drops_every_socket_and_trading_resumes(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, transport="ws")
        async with h.running():
            await h.wait_for(lambda: h.executor.trade.ready)
            await h.submit([bid("r1")])
            await h.wait_for(lambda: status(h, "r1") is OrderStatus.NEW)
            server.inject("restart")
            await h.submit([bid("r2", price="29980.0")])  # sent whichever way is up
            await h.wait_for(lambda: status(h, "r2") is OrderStatus.NEW)
            await h.wait_for(lambda: h.collector.socket.connects == 2
                             and h.executor.trade_ws.connects == 2 and h.executor.trade.ready)
            await h.submit([CancelOrder(symbol="BTCUSDT", client_id="r1"), bid("r3", "29970.0")])
            await h.wait_for(lambda: status(h, "r1") is OrderStatus.CANCELLED
                             and status(h, "r3") is OrderStatus.NEW)
            assert all(len(placed(h, c)) == 1 for c in ("r1", "r2", "r3"))
