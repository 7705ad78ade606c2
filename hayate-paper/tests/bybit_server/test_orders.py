"""Orders through REST: Bybit's rules and codes, the paper exchange's matching underneath."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import (
    OTHER_KEY,
    OTHER_SECRET,
    SignedRest,
    local_config,
    local_exchange,
)

pytestmark = pytest.mark.anyio

Q = "category=linear&symbol=BTCUSDT"


def code(reply: dict[str, Any]) -> tuple[int, str]:
    return reply["retCode"], reply["retMsg"]


async def open_orders(rest: SignedRest) -> list[dict[str, Any]]:
    return (await rest.get("/v5/order/realtime", Q))["result"]["list"]  # type: ignore[no-any-return]


async def test_order_link_ids_are_unique_per_account(server: BybitServer, rest: SignedRest) -> None:
    assert (await rest.order(side="Buy", qty="0.1", price="99.0", orderLinkId="dup"))["retCode"] == 0
    again = await rest.order(side="Buy", qty="0.1", price="98.0", orderLinkId="dup")
    assert code(again) == (110072, "OrderLinkedID is duplicate")
    # Even once the first one is gone, the id stays used.
    await rest.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT",
                                         "orderLinkId": "dup"})
    assert (await rest.order(side="Buy", qty="0.1", price="98.0", orderLinkId="dup"))["retCode"] == 110072
    spot = {"category": "spot", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit",
            "qty": "0.01", "price": "1990.00", "orderLinkId": "dup-spot"}
    assert (await rest.post("/v5/order/create", spot))["retCode"] == 0
    assert code(await rest.post("/v5/order/create", spot)) == (170141, "Duplicate clientOrderId.")
    other = SignedRest(server.base_url, OTHER_KEY, OTHER_SECRET)
    assert (await other.order(side="Buy", qty="0.1", price="99.0", orderLinkId="dup"))["retCode"] == 0
    await other.aclose()
    bad = await rest.order(side="Buy", qty="0.1", price="99.0", orderLinkId="x" * 37)
    assert bad["retCode"] == 10001


async def test_trading_rules(rest: SignedRest) -> None:
    assert code(await rest.order(side="Buy", qty="0.1", price="99.95"))[0] == 10001  # tick 0.1
    assert code(await rest.order(side="Buy", qty="0.0005", price="99.0")) == (10001, "Qty invalid")
    assert code(await rest.order(side="Buy", qty="0.001", price="99.0")) == (
        110094, "Order does not meet minimum order value 5USDT")
    assert code(await rest.order(side="Buy", qty="150", price="99.0")) == (
        10001, "The number of contracts exceeds maximum limit allowed")
    assert code(await rest.order(side="Buy", qty="0.1", price="99.0", positionIdx=1)) == (
        10001, "position idx not match position mode")
    assert code(await rest.order(side="Buy", qty="0.1"))[0] == 10001  # a limit needs a price
    assert code(await rest.order(side="Sell", qty="0.1", price="101.0", reduceOnly=True)) == (
        110017, "Reduce-only rule not satisfied")
    unknown = await rest.post("/v5/order/create", {"category": "linear", "symbol": "NOPEUSDT",
                                                   "side": "Buy", "orderType": "Limit",
                                                   "qty": "1", "price": "1"})
    assert unknown["retCode"] == 10001
    assert await open_orders(rest) == []


async def test_insufficient_balance_is_refused_and_nothing_happens(server: BybitServer) -> None:
    poor = SignedRest(server.base_url, OTHER_KEY, OTHER_SECRET)  # 100 USDT, 10x
    got = await poor.order(side="Buy", qty="20", price="99.0")  # 1980 notional: 198 margin
    assert code(got) == (110007, "ab not enough for new order")
    listed = await poor.get("/v5/order/history", Q)
    assert listed["result"]["list"] == []
    assert (await poor.order(side="Buy", qty="5", price="99.0"))["retCode"] == 0  # 49.5 margin
    await poor.aclose()


async def test_post_only_that_would_cross_ends_cancelled(rest: SignedRest) -> None:
    placed = await rest.order(side="Buy", qty="0.1", price="100.1", timeInForce="PostOnly",
                              orderLinkId="po-cross")
    assert placed["retCode"] == 0  # accepted, then cancelled: not a rejection
    assert await open_orders(rest) == []
    hist = (await rest.get("/v5/order/history", Q + "&orderLinkId=po-cross"))["result"]["list"]
    assert len(hist) == 1
    o = hist[0]
    assert (o["orderStatus"], o["rejectReason"], o["timeInForce"]) == (
        "Cancelled", "EC_PostOnlyWillTakeLiquidity", "PostOnly")
    assert o["cumExecQty"] == "0.000" and o["leavesQty"] == "0.000"
    by_id = await rest.get("/v5/order/realtime", Q + f"&orderId={placed['result']['orderId']}")
    assert by_id["result"]["list"][0]["orderStatus"] == "Cancelled"


async def test_resting_order_lifecycle(server: BybitServer, rest: SignedRest) -> None:
    placed = await rest.order(side="Buy", qty="0.5", price="100.0", timeInForce="PostOnly",
                              orderLinkId="life")
    oid = placed["result"]["orderId"]
    [o] = await open_orders(rest)
    assert (o["orderId"], o["orderStatus"], o["price"], o["qty"], o["leavesQty"]) == (
        oid, "New", "100.0", "0.500", "0.500")
    assert o["avgPrice"] == "0" and o["leavesValue"] == "50"
    # 2 are ahead of us at 100.0: a 2.2 sell fills 0.2 of ours, as maker.
    server.push_trade("BTCUSDT", "100.0", "2.2", "Sell")
    [o] = await open_orders(rest)
    assert (o["orderStatus"], o["cumExecQty"], o["leavesQty"], o["avgPrice"]) == (
        "PartiallyFilled", "0.200", "0.300", "100.0")
    assert Decimal(o["cumExecFee"]) == Decimal("0.004")  # 20 * 0.02 %
    amended = await rest.post("/v5/order/amend", {"category": "linear", "symbol": "BTCUSDT",
                                                  "orderId": oid, "price": "99.9"})
    assert amended["retCode"] == 0
    [o] = await open_orders(rest)
    assert o["price"] == "99.9" and o["cumExecQty"] == "0.200"
    same = await rest.post("/v5/order/amend", {"category": "linear", "symbol": "BTCUSDT",
                                               "orderId": oid, "price": "99.9"})
    assert same["retCode"] == 10001
    cancelled = await rest.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT",
                                                     "orderLinkId": "life"})
    assert cancelled["result"] == {"orderId": oid, "orderLinkId": "life"}
    hist = (await rest.get("/v5/order/history", Q))["result"]["list"]
    assert (hist[0]["orderStatus"], hist[0]["cancelType"]) == ("Cancelled", "CancelByUser")
    assert hist[0]["cumExecQty"] == "0.200"
    for verb, path in (("cancel", "/v5/order/cancel"), ("replace", "/v5/order/amend")):
        gone = await rest.post(path, {"category": "linear", "symbol": "BTCUSDT", "orderId": oid,
                                      "price": "99.0"})
        assert code(gone) == (110001, f"order not exists or too late to {verb}")
    pos = (await rest.get("/v5/position/list", Q))["result"]["list"][0]
    assert (pos["side"], pos["size"], pos["avgPrice"]) == ("Buy", "0.200", "100.0")


async def test_taker_order_walks_the_book(server: BybitServer, rest: SignedRest) -> None:
    placed = await rest.order(side="Buy", orderType="Market", qty="1.5")
    assert placed["retCode"] == 0
    execs = (await rest.get("/v5/execution/list", Q))["result"]["list"]
    fills = sorted((e["execPrice"], e["execQty"], e["isMaker"], e["feeRate"]) for e in execs)
    assert fills == [("100.1", "1.000", False, "0.00055"), ("100.2", "0.500", False, "0.00055")]
    [o] = (await rest.get("/v5/order/history", Q))["result"]["list"]
    assert o["orderStatus"] == "Filled" and o["timeInForce"] == "IOC"
    exact = (Decimal("100.1") + Decimal("100.2") / 2) / Decimal("1.5")
    assert Decimal(o["avgPrice"]) == exact.quantize(Decimal("0.00001"))
    # Closing half realises P&L at the new price (execPnl, closedSize).
    server.push_book("BTCUSDT", [("100.5", "5")], [("100.6", "5")])
    await rest.order(side="Sell", orderType="Market", qty="0.5", reduceOnly=True)
    last = (await rest.get("/v5/execution/list", Q + "&limit=1"))["result"]["list"][0]
    assert (last["closedSize"], last["execPrice"]) == ("0.500", "100.5")
    avg = (Decimal("100.1") + Decimal("100.2") / 2) / Decimal("1.5")
    assert Decimal(last["execPnl"]) == ((Decimal("100.5") - avg) * Decimal("0.5")).quantize(
        Decimal("0.00000001"))
    pos = (await rest.get("/v5/position/list", Q))["result"]["list"][0]
    assert (pos["size"], pos["side"]) == ("1.000", "Buy")


async def test_cancel_all_and_batches(rest: SignedRest) -> None:
    for i in range(3):
        await rest.order(side="Buy", qty="0.1", price=f"9{i}.0", orderLinkId=f"ca-{i}")
    done = await rest.post("/v5/order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"})
    assert done["result"]["success"] == "1"
    assert sorted(x["orderLinkId"] for x in done["result"]["list"]) == ["ca-0", "ca-1", "ca-2"]
    assert await open_orders(rest) == []
    need = await rest.post("/v5/order/cancel-all", {"category": "linear"})
    assert need["retCode"] == 10001
    batch = await rest.post("/v5/order/create-batch", {"category": "linear", "request": [
        {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "95.0",
         "orderLinkId": "b-1"},
        {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "95.0",
         "orderLinkId": "b-1"},
        {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "95.05"},
    ]})
    assert batch["retCode"] == 0
    assert [x["code"] for x in batch["retExtInfo"]["list"]] == [0, 110072, 10001]
    ids = [x["orderId"] for x in batch["result"]["list"]]
    assert ids[0] and ids[1:] == ["", ""]
    assert batch["result"]["list"][1]["orderLinkId"] == "b-1"
    cancel = await rest.post("/v5/order/cancel-batch", {"category": "linear", "request": [
        {"symbol": "BTCUSDT", "orderId": ids[0]}, {"symbol": "BTCUSDT", "orderId": "nope"}]})
    assert [x["code"] for x in cancel["retExtInfo"]["list"]] == [0, 110001]


async def test_queries_filter_and_paginate() -> None:
    async with local_exchange(local_config(rate_limits={"/v5/order/create": 100})) as server:
        rest = SignedRest(server.base_url)
        await _paginate(rest)
        await rest.aclose()


async def _paginate(rest: SignedRest) -> None:
    for i in range(25):
        placed = await rest.order(side="Buy", qty="0.1", price=str(Decimal("90.0") - Decimal(i) / 10))
        assert placed["retCode"] == 0, placed
    first = (await rest.get("/v5/order/realtime", Q))["result"]
    assert len(first["list"]) == 20 and first["nextPageCursor"]
    second = (await rest.get("/v5/order/realtime", Q + f"&cursor={first['nextPageCursor']}"))["result"]
    assert len(second["list"]) == 5 and second["nextPageCursor"] == ""
    ids = {o["orderId"] for o in first["list"]} | {o["orderId"] for o in second["list"]}
    assert len(ids) == 25
    need = await rest.get("/v5/order/realtime", "category=linear")
    assert need["retCode"] == 10001
    by_coin = await rest.get("/v5/order/realtime", "category=linear&settleCoin=USDT&limit=50")
    assert len(by_coin["result"]["list"]) == 25
    assert (await rest.get("/v5/order/realtime", "category=linear&settleCoin=USDC"))["result"]["list"] == []


async def test_positions_and_wallet(server: BybitServer, rest: SignedRest) -> None:
    flat = (await rest.get("/v5/position/list", Q))["result"]["list"]
    assert [(p["symbol"], p["side"], p["size"]) for p in flat] == [("BTCUSDT", "", "0.000")]
    assert (await rest.get("/v5/position/list", "category=linear&settleCoin=USDT"))["result"]["list"] == []
    assert (await rest.get("/v5/position/list", "category=linear"))["retCode"] == 10001
    wallet = (await rest.get("/v5/account/wallet-balance", "accountType=UNIFIED"))["result"]["list"][0]
    coins = {c["coin"]: c for c in wallet["coin"]}
    assert set(coins) == {"USDT", "ETH"}
    assert coins["USDT"]["walletBalance"] == "10000" and coins["ETH"]["walletBalance"] == "1"
    only = (await rest.get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT"))["result"]
    assert [c["coin"] for c in only["list"][0]["coin"]] == ["USDT"]
    assert (await rest.get("/v5/account/wallet-balance", "accountType=SPOT"))["retCode"] == 10001
    await rest.order(side="Sell", orderType="Market", qty="1")  # 1 @ 100.0, taker
    pos = (await rest.get("/v5/position/list", "category=linear&settleCoin=USDT"))["result"]["list"]
    assert [(p["side"], p["size"], p["avgPrice"]) for p in pos] == [("Sell", "1.000", "100.0")]
    usdt = (await rest.get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT"))["result"]
    fee = Decimal("100.0") * Decimal("0.00055")
    assert Decimal(usdt["list"][0]["coin"][0]["walletBalance"]) == Decimal(10000) - fee


async def test_spot_orders_lock_and_settle_coins(server: BybitServer, rest: SignedRest) -> None:
    spot = {"category": "spot", "symbol": "ETHUSDT", "orderType": "Limit"}
    placed = await rest.post("/v5/order/create", {**spot, "side": "Buy", "qty": "0.1",
                                                  "price": "1990.00"})
    assert placed["retCode"] == 0
    wallet = (await rest.get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT"))["result"]
    assert wallet["list"][0]["coin"][0]["locked"] == "199"
    too_much = await rest.post("/v5/order/create", {**spot, "side": "Sell", "qty": "2",
                                                    "price": "2100.00"})
    assert code(too_much) == (170131, "Insufficient balance.")
    assert (await rest.post("/v5/order/create", {**spot, "side": "Buy", "qty": "0.1",
                                                 "price": "1990.001"}))["retCode"] == 170134
    # A market buy is sized in USDT by default.
    mkt = await rest.post("/v5/order/create", {"category": "spot", "symbol": "ETHUSDT",
                                               "side": "Buy", "orderType": "Market", "qty": "100"})
    assert mkt["retCode"] == 0
    [e] = (await rest.get("/v5/execution/list", "category=spot&symbol=ETHUSDT"))["result"]["list"]
    assert e["execPrice"] == "2000.01" and Decimal(e["execQty"]) == Decimal("0.0499")
    assert e["feeCurrency"] == "ETH"  # a spot buy pays its fee in what it receives
    [o] = [o for o in (await rest.get("/v5/order/history", "category=spot"))["result"]["list"]
           if o["orderType"] == "Market"]
    assert (o["marketUnit"], o["qty"], o["orderStatus"]) == ("quoteCoin", "100", "Filled")
    pos = await rest.get("/v5/position/list", "category=spot")
    assert pos["retCode"] == 10001
