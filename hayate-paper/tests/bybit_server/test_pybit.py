"""Proof with Bybit's own SDK (pybit): HTTP, the public and private streams and the trade
socket, parsed by pybit itself (its book merging, its auth and subscription handling).

pybit is synchronous and threaded: its calls run in worker threads while the server runs
in the test's event loop; its callbacks feed thread-safe queues the test awaits.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import anyio
import anyio.to_thread
import pytest
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import WebSocket, WebSocketTrading

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.clients import pybit_http, pybit_local
from hayate_paper.bybit_server.config import ServerConfig
from hayate_paper.bybit_server.testing import KEY, SECRET, local_config, local_exchange

pytestmark = pytest.mark.anyio


class Inbox:
    """Messages from pybit's callbacks (its threads), awaited by the test."""

    def __init__(self) -> None:
        self.q: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.seen: list[tuple[str, Any]] = []

    def sink(self, name: str) -> Callable[[Any], None]:
        return lambda msg: self.q.put((name, msg))

    async def wait(self, name: str, pred: Callable[[Any], bool] = lambda m: True,
                   within: float = 30.0) -> Any:
        for n, m in self.seen:
            if n == name and pred(m):
                self.seen.remove((n, m))
                return m
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name} message matched within {within}s; "
                                     f"seen: {[n for n, _ in self.seen]}")
            try:
                n, m = await anyio.to_thread.run_sync(self.q.get, True, min(left, 0.5))
            except queue.Empty:
                continue
            if n == name and pred(m):
                return m
            self.seen.append((n, m))


def _data(m: Any) -> list[dict[str, Any]]:
    return m["data"]  # type: ignore[no-any-return]


async def run(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kw))


async def close(*sockets: Any) -> None:
    """pybit's ``exit`` waits for its socket thread; never let a stuck one hang the test."""
    for ws in sockets:
        with anyio.move_on_after(5):
            await anyio.to_thread.run_sync(ws.exit, abandon_on_cancel=True)


@pytest.fixture
def config() -> ServerConfig:
    """Order requests reach the engine a quarter of a second late, like a venue across an
    ocean: pybit's trade socket registers an order's callback only after sending it, and a
    faster answer (a loaded machine can hold pybit's thread that long) would be dropped by
    pybit as an unregistered reqId. Nothing here is about speed."""
    return local_config(exchange={"order_latency": 0.25})


async def test_pybit_trades_against_the_local_exchange(server: BybitServer) -> None:
    http = pybit_http(server.base_url, api_key=KEY, api_secret=SECRET)
    inbox = Inbox()

    def open_sockets() -> tuple[WebSocket, WebSocket, WebSocketTrading]:
        with pybit_local(server.base_url):
            public = WebSocket(channel_type="linear", testnet=False)
            public.orderbook_stream(50, "BTCUSDT", inbox.sink("book"))
            public.trade_stream("BTCUSDT", inbox.sink("trade"))
            private = WebSocket(channel_type="private", testnet=False, api_key=KEY,
                                api_secret=SECRET)
            private.order_stream(inbox.sink("order"))
            private.execution_stream(inbox.sink("execution"))
            private.position_stream(inbox.sink("position"))
            private.wallet_stream(inbox.sink("wallet"))
            trading = WebSocketTrading(testnet=False, api_key=KEY, api_secret=SECRET)
        return public, private, trading

    public, private, trading = await run(open_sockets)
    try:
        # Instruments and the order book, over HTTP and the stream.
        info = await run(http.get_instruments_info, category="linear")
        [inst] = info["result"]["list"]
        assert (inst["symbol"], inst["priceFilter"]["tickSize"], inst["lotSizeFilter"]["qtyStep"]) == (
            "BTCUSDT", "0.1", "0.001")
        book = (await run(http.get_orderbook, category="linear", symbol="BTCUSDT"))["result"]
        assert book["b"][0] == ["100.0", "2.000"] and book["a"][0] == ["100.1", "1.000"]
        snap = await inbox.wait("book")
        assert snap["data"]["b"][0] == ["100.0", "2.000"]
        server.push_book("BTCUSDT", [("100.0", "2.5")], [("100.1", "0")], snapshot=False)
        merged = await inbox.wait("book", lambda m: m["data"]["b"][0] == ["100.0", "2.500"])
        assert merged["data"]["a"][0] == ["100.2", "2.000"]  # pybit applied our delta itself

        # A PostOnly bid: acknowledged, listed, and pushed on the order stream.
        placed = await run(http.place_order, category="linear", symbol="BTCUSDT", side="Buy",
                           orderType="Limit", qty="0.5", price="100.0", timeInForce="PostOnly",
                           orderLinkId="pybit-bid")
        oid = placed["result"]["orderId"]
        listed = (await run(http.get_open_orders, category="linear", symbol="BTCUSDT"))["result"]
        assert [(o["orderId"], o["orderStatus"]) for o in listed["list"]] == [(oid, "New")]
        pushed = await inbox.wait("order", lambda m: any(o["orderId"] == oid for o in _data(m)))
        assert _data(pushed)[0]["orderStatus"] == "New"

        # Simulated flow fills it: 2.5 ahead of us at 100.0, a 3.0 sell reaches us.
        server.push_trade("BTCUSDT", "100.0", "3.0", "Sell")
        ex = await inbox.wait("execution", lambda m: _data(m)[0]["orderId"] == oid)
        assert (_data(ex)[0]["execQty"], _data(ex)[0]["execPrice"], _data(ex)[0]["isMaker"]) == (
            "0.500", "100.0", True)
        pos = await inbox.wait("position", lambda m: _data(m)[0]["size"] == "0.500")
        assert (_data(pos)[0]["side"], _data(pos)[0]["entryPrice"]) == ("Buy", "100.0")
        await inbox.wait("order", lambda m: _data(m)[0]["orderStatus"] == "Filled")
        wallet = await inbox.wait("wallet")
        assert _data(wallet)[0]["accountType"] == "UNIFIED"
        await inbox.wait("trade", lambda m: _data(m)[0]["v"] == "3.000")

        # Another order over the trade socket, then cancelled.
        acks = Inbox()
        await run(trading.place_order, acks.sink("ack"), category="linear", symbol="BTCUSDT",
                  side="Buy", orderType="Limit", qty="0.2", price="99.0",
                  orderLinkId="pybit-ws")
        ack = await acks.wait("ack")
        assert ack["retCode"] == 0 and ack["header"]["X-Bapi-Limit"] == "10"
        other = ack["data"]["orderId"]
        await run(trading.cancel_order, acks.sink("cancel"), category="linear",
                  symbol="BTCUSDT", orderId=other)
        assert (await acks.wait("cancel"))["data"]["orderId"] == other
        gone = await inbox.wait("order", lambda m: any(
            o["orderId"] == other and o["orderStatus"] == "Cancelled" for o in _data(m)))
        assert gone["topic"] == "order"

        # Balances and positions.
        bal = (await run(http.get_wallet_balance, accountType="UNIFIED"))["result"]["list"][0]
        usdt = next(c for c in bal["coin"] if c["coin"] == "USDT")
        assert Decimal(usdt["walletBalance"]) == Decimal(10000) - Decimal("50") * Decimal("0.0002")
        positions = (await run(http.get_positions, category="linear", symbol="BTCUSDT"))["result"]
        assert [(p["size"], p["avgPrice"]) for p in positions["list"]] == [("0.500", "100.0")]
        hist = (await run(http.get_order_history, category="linear", symbol="BTCUSDT"))["result"]
        assert {o["orderStatus"] for o in hist["list"]} == {"Filled", "Cancelled"}
        fills = (await run(http.get_executions, category="linear", symbol="BTCUSDT"))["result"]
        assert [e["orderLinkId"] for e in fills["list"]] == ["pybit-bid"]
    finally:
        await close(public, private, trading)


async def test_pybit_wrong_secret_gets_10004(server: BybitServer) -> None:
    http = pybit_http(server.base_url, api_key=KEY, api_secret="wrong", max_retries=1)
    with pytest.raises(InvalidRequestError) as info:
        await run(http.get_positions, category="linear", symbol="BTCUSDT")
    assert info.value.status_code == 10004
    assert "error sign! origin_string[" in info.value.message


async def test_pybit_over_the_rate_limit_gets_10006_and_recovers() -> None:
    async with local_exchange() as server:
        # The next private request is over the limit, however slow the machine (three
        # requests inside one rolling second would be a race); the reply is the limiter's.
        strict = pybit_http(server.base_url, api_key=KEY, api_secret=SECRET,
                            retry_codes={10002})  # report 10006 instead of retrying
        await run(strict.get_positions, category="linear", symbol="BTCUSDT")
        server.inject("rate_limit", count=1)
        with pytest.raises(InvalidRequestError) as info:
            await run(strict.get_positions, category="linear", symbol="BTCUSDT")
        assert (info.value.status_code, info.value.message) == (10006, "Too many visits!")
        # pybit's default handling sleeps until X-Bapi-Limit-Reset-Timestamp and retries:
        # refused once, then served on its first retry (it waited for the reset, it did not
        # hammer or give up).
        patient = pybit_http(server.base_url, api_key=KEY, api_secret=SECRET, max_retries=3)
        server.inject("rate_limit", count=1)
        before = server.rest.requests
        got = await run(patient.get_positions, category="linear", symbol="BTCUSDT")
        assert got["retCode"] == 0 and server.rest.requests - before == 2
