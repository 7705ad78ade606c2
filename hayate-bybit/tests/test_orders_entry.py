"""``bybit.orders`` against the local exchange: place, amend, cancel, batch, cancel-all,
local validation and venue refusals, over REST and over the trade socket.

Each test checks what a user relies on twice: what the bot was told (the executor's
events) and what the exchange actually holds (the server's own records).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hayate.actions import AmendOrder, CancelAll, CancelOrder, OrderType, PlaceOrder, TimeInForce
from hayate.events import Fill, OrderStatus, OrderUpdate, PositionUpdate, Side

pytestmark = pytest.mark.anyio

D = Decimal
TRANSPORTS = ["rest", "ws"]


def bid(cid: str, price: str = "29990.0", qty: str = "0.01") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D(qty), price=D(price), client_id=cid)


def ask(cid: str, price: str = "30010.0", qty: str = "0.01") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.SELL, qty=D(qty), price=D(price), client_id=cid)


def venue_orders(h: Any, open_only: bool = True) -> dict[str, Any]:
    """The exchange's own records, by orderLinkId."""
    return {o.link_id: o for o in h.account.orders.values() if o.is_open or not open_only}


def status(h: Any, cid: str) -> OrderStatus | None:
    ups = h.of(OrderUpdate, client_id=cid)
    return ups[-1].status if ups else None


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_place_amend_cancel(live: Any, transport: str) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, transport=transport)
        async with h.running():
            if transport == "ws":
                await h.wait_for(lambda: h.executor.trade.ready)
            await h.submit([bid("b1"), ask("a1")])
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW
                             and status(h, "a1") is OrderStatus.NEW)
            assert set(venue_orders(h)) == {"b1", "a1"}
            assert venue_orders(h)["b1"].price == D("29990.0")

            await h.submit([AmendOrder(symbol="BTCUSDT", client_id="b1", price=D("29995.5"))])
            await h.wait_for(lambda: h.of(OrderUpdate, client_id="b1")[-1].price == D("29995.5"))
            assert venue_orders(h)["b1"].price == D("29995.5")

            await h.submit([CancelOrder(symbol="BTCUSDT", client_id="a1")])
            await h.wait_for(lambda: status(h, "a1") is OrderStatus.CANCELLED)
            assert set(venue_orders(h)) == {"b1"}
            # Every order went out with its client id as orderLinkId; the tracker agrees.
            assert [o.client_id for o in h.executor.orders.open_orders()] == ["b1"]
            if transport == "ws":
                assert h.executor.trade.requests >= 3
                assert h.executor.stats["rest_fallbacks"] == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_several_orders_go_as_one_batch(live: Any, transport: str) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, transport=transport)
        async with h.running():
            if transport == "ws":
                await h.wait_for(lambda: h.executor.trade.ready)
            before = h.executor.stats["requests"]
            await h.submit([bid(f"b{i}", price=f"2998{i}.0") for i in range(5)])
            await h.wait_for(lambda: len(venue_orders(h)) == 5)
            assert h.executor.stats["requests"] - before == 1
            await h.submit([CancelOrder(symbol="BTCUSDT", client_id=f"b{i}") for i in range(5)])
            await h.wait_for(lambda: all(status(h, f"b{i}") is OrderStatus.CANCELLED
                                         for i in range(5)))
            assert h.executor.stats["requests"] - before == 2
            assert not venue_orders(h)
            # Nothing is kept about finished orders beyond the tracker's bounded history.
            ex = h.executor
            assert ex.inflight.empty() and not ex.sender.unsent


async def test_batch_reports_each_refusal(live: Any) -> None:
    """Bybit answers a batch with retCode 0 even when items failed: each item is judged."""
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            too_big = bid("huge", qty="1000")  # 30 million USDT: more than the wallet
            await h.submit([bid("ok1"), too_big, ask("ok2")])
            await h.wait_for(lambda: status(h, "huge") is OrderStatus.REJECTED
                             and status(h, "ok1") is OrderStatus.NEW
                             and status(h, "ok2") is OrderStatus.NEW)
            reason = h.of(OrderUpdate, client_id="huge")[-1].reason
            assert reason.startswith("110007")
            assert set(venue_orders(h)) == {"ok1", "ok2"}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_rule_breaking_orders_never_leave(live: Any, transport: str) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, transport=transport)
        async with h.running():
            before = server.rest.requests
            await h.submit([bid("tick", price="29990.05"), bid("lot", qty="0.0105"),
                            bid("zero", qty="0"), bid("dust", price="100.0", qty="0.001")])
            await h.wait_for(lambda: len(h.of(OrderUpdate, status=OrderStatus.REJECTED)) == 4)
            reasons = {e.client_id: e.reason for e in h.of(OrderUpdate)}
            assert "tick size" in reasons["tick"]
            assert "qty step" in reasons["lot"]
            assert "positive" in reasons["zero"]
            assert "notional" in reasons["dust"]
            assert all(r.startswith("invalid: ") for r in reasons.values())
            assert server.rest.requests == before and not venue_orders(h, open_only=False)
            assert h.executor.stats["rejected_locally"] == 4
            assert not h.executor.orders.open_orders()


async def test_fill_position_and_cancel_all(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            await h.submit([bid("b1", price="29999.5"), bid("b2", price="29980.0"),
                            ask("a1", price="30020.0")])
            await h.wait_for(lambda: len(venue_orders(h)) == 3)
            server.push_trade("BTCUSDT", "29999.5", "1", "Sell")  # hits our bid, first at its level
            await h.wait_for(lambda: h.of(Fill, client_id="b1"))
            fill = h.of(Fill, client_id="b1")[0]
            assert (fill.price, fill.qty, fill.side) == (D("29999.5"), D("0.01"), Side.BUY)
            await h.wait_for(lambda: h.of(PositionUpdate) and
                             h.of(PositionUpdate)[-1].size == D("0.01"))
            assert h.executor.orders.position("BTCUSDT").size == D("0.01")
            await h.submit([CancelAll()])  # every symbol: what the kill switch sends
            await h.wait_for(lambda: status(h, "b2") is OrderStatus.CANCELLED
                             and status(h, "a1") is OrderStatus.CANCELLED)
            assert not venue_orders(h)
            assert status(h, "b1") is OrderStatus.FILLED


async def test_open_orders_cancelled_at_exit(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server, transport="ws")
        async with h.running(cancel_on_exit=True):
            await h.wait_for(lambda: h.executor.trade.ready)
            await h.submit([bid("b1"), ask("a1")])
            await h.wait_for(lambda: len(venue_orders(h)) == 2)
        assert not venue_orders(h)
        # The private stream was closed before the cancel-all: the executor asked the venue
        # how each order ended and told the bot (drain_events), whose account then holds
        # nothing open.
        told = h.at_exit
        assert {(e.client_id, e.status) for e in told if isinstance(e, OrderUpdate)} == {
            ("b1", OrderStatus.CANCELLED), ("a1", OrderStatus.CANCELLED)}
        assert not h.executor.orders.open_orders()


async def test_a_fill_the_stream_missed_before_the_exit_is_told(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running(cancel_on_exit=True):
            await h.submit([bid("b1", price="29999.5")])
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW)
            server.inject("silence", target="private")  # the fill's push never arrives
            server.push_trade("BTCUSDT", "29999.5", "0.004", "Sell")
            assert venue_orders(h)["b1"].cum_qty == D("0.004")
        assert not h.of(Fill)
        told = h.at_exit
        fills = [e for e in told if isinstance(e, Fill)]
        ends = [e for e in told if isinstance(e, OrderUpdate)]
        assert [(f.client_id, f.qty, f.price) for f in fills] == [("b1", D("0.004"),
                                                                   D("29999.5"))]
        assert [(u.client_id, u.filled_qty) for u in ends] == [("b1", D("0.004"))]
        assert ends[0].status.is_final
        assert told.index(fills[0]) < told.index(ends[0])  # the fill, then how it ended
        assert h.executor.orders.position("BTCUSDT").size == D("0.004")
        assert not h.executor.orders.open_orders()


async def test_market_and_reduce_only_orders(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            await h.submit([PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D("0.02"),
                                       order_type=OrderType.MARKET, client_id="m1")])
            await h.wait_for(lambda: status(h, "m1") is OrderStatus.FILLED)
            await h.submit([PlaceOrder(symbol="BTCUSDT", side=Side.SELL, qty=D("0.05"),
                                       price=D("30100.0"), reduce_only=True,
                                       time_in_force=TimeInForce.GTC, client_id="r1")])
            await h.wait_for(lambda: status(h, "r1") is not None)
            await h.submit([PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D("0.01"),
                                       price=D("30001.5"), client_id="po",
                                       time_in_force=TimeInForce.POST_ONLY)])
            # A PostOnly that would cross ends Cancelled (not Rejected), as on Bybit.
            await h.wait_for(lambda: status(h, "po") is OrderStatus.CANCELLED)
            assert "PostOnly" in h.of(OrderUpdate, client_id="po")[-1].reason
            assert h.of(Fill, client_id="m1")[0].side is Side.BUY


async def test_amend_that_breaks_the_rules_is_refused_locally(live: Any) -> None:
    async with live.exchange() as server:
        h = live.Harness(server)
        async with h.running():
            await h.submit([bid("b1")])
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW)
            await h.submit([AmendOrder(symbol="BTCUSDT", client_id="b1", price=D("29990.05"))])
            await h.wait_for(lambda: "amend refused" in h.of(OrderUpdate, client_id="b1")[-1].reason)
            assert status(h, "b1") is OrderStatus.NEW
            assert venue_orders(h)["b1"].price == D("29990.0")
