"""Proof with ccxt's ``bybit``: it maps every reply into its unified structures (orders,
trades, positions, balances, books, markets), so field names and types must be Bybit's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt
import pytest

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.clients import ccxt_options
from hayate_paper.bybit_server.testing import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    local_config,
    local_exchange,
)

pytestmark = pytest.mark.anyio

PERP = "BTC/USDT:USDT"


@pytest.fixture
async def exchange(server: BybitServer) -> AsyncIterator[Any]:
    ex = ccxt.bybit(ccxt_options(server.base_url, KEY, SECRET))
    yield ex
    await ex.close()


async def test_ccxt_trades_against_the_local_exchange(server: BybitServer, exchange: Any) -> None:
    markets = await exchange.load_markets()
    assert set(markets) == {PERP, "ETH/USDT"}
    m = markets[PERP]
    assert (m["type"], m["linear"], m["precision"]["price"], m["precision"]["amount"]) == (
        "swap", True, 0.1, 0.001)
    assert m["limits"]["amount"]["min"] == 0.001 and m["limits"]["cost"]["min"] == 5
    book = await exchange.fetch_order_book(PERP)
    assert book["bids"][0] == [100.0, 2.0] and book["asks"][0] == [100.1, 1.0]

    order = await exchange.create_order(PERP, "limit", "buy", 0.5, 100.0,
                                        {"postOnly": True, "clientOrderId": "ccxt-bid"})
    open_ = await exchange.fetch_open_orders(PERP)
    assert [(o["id"], o["status"], o["postOnly"], o["amount"], o["price"], o["clientOrderId"])
            for o in open_] == [(order["id"], "open", True, 0.5, 100.0, "ccxt-bid")]

    server.push_trade("BTCUSDT", "100.0", "3", "Sell")  # 2 ahead of us, then 0.5 for us
    trades = await exchange.fetch_my_trades(PERP)
    assert [(t["order"], t["side"], t["price"], t["amount"], t["takerOrMaker"]) for t in trades] == [
        (order["id"], "buy", 100.0, 0.5, "maker")]
    assert trades[0]["fee"] == {"currency": "USDT", "cost": 0.01, "rate": 0.0002}
    filled = await exchange.fetch_order(order["id"], PERP, {"acknowledged": True})
    assert (filled["status"], filled["filled"], filled["remaining"], filled["average"]) == (
        "closed", 0.5, 0.0, 100.0)

    other = await exchange.create_order(PERP, "limit", "buy", 0.2, 99.0)
    cancelled = await exchange.cancel_order(other["id"], PERP)
    assert cancelled["id"] == other["id"]
    closed = await exchange.fetch_canceled_and_closed_orders(PERP)
    assert {o["id"]: o["status"] for o in closed} == {order["id"]: "closed", other["id"]: "canceled"}

    [pos] = await exchange.fetch_positions([PERP])
    assert (pos["side"], pos["contracts"], pos["entryPrice"], pos["leverage"]) == (
        "long", 0.5, 100.0, 10.0)
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["total"] == 10000 - 0.01
    assert balance["ETH"]["total"] == 1.0
    ticker = await exchange.fetch_ticker(PERP)
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (100.0, 100.1, 100.0)


async def test_ccxt_maps_errors() -> None:
    async with local_exchange(local_config(rate_limits={"/v5/position/list": 1})) as server:
        wrong = ccxt.bybit(ccxt_options(server.base_url, KEY, "wrong-secret"))
        right = ccxt.bybit(ccxt_options(server.base_url, KEY, SECRET))
        try:
            await right.load_markets()
            wrong.markets = right.markets
            wrong.options["enableUnifiedAccount"] = wrong.options["enableUnifiedMargin"] = True
            with pytest.raises(ccxt.AuthenticationError, match="error sign"):
                await wrong.fetch_positions([PERP])
            await right.fetch_positions([PERP])
            with pytest.raises(ccxt.RateLimitExceeded, match="Too many visits"):
                await right.fetch_positions([PERP])
            await right.create_order(PERP, "limit", "buy", 0.1, 99.0, {"clientOrderId": "same"})
            with pytest.raises(ccxt.InvalidOrder, match="OrderLinkedID is duplicate"):
                await right.create_order(PERP, "limit", "buy", 0.1, 99.0, {"clientOrderId": "same"})
            with pytest.raises(ccxt.OrderNotFound):
                await right.cancel_order("no-such-order", PERP)
            poor = ccxt.bybit(ccxt_options(server.base_url, OTHER_KEY, OTHER_SECRET))
            poor.markets = right.markets
            try:
                with pytest.raises(ccxt.InsufficientFunds, match="ab not enough"):
                    await poor.create_order(PERP, "limit", "buy", 20, 99.0)  # 198 margin > 100
            finally:
                await poor.close()
        finally:
            await wrong.close()
            await right.close()
