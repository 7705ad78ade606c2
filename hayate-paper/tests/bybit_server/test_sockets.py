"""The private stream and the trade socket: authentication, topics, request rules."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hayate_bybit.auth import ws_auth_args
from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    SignedRest,
    WsClient,
    local_config,
    local_exchange,
)

pytestmark = pytest.mark.anyio


def _in(ms: int) -> int:
    return int(time.time() * 1000) + ms


async def test_private_auth_failures(server: BybitServer, ws_connect: Any) -> None:
    ws: WsClient = await ws_connect(server.private_url)
    for args, why in (
        (ws_auth_args(KEY, "wrong", _in(5000)), "Error sign"),
        (ws_auth_args(KEY, SECRET, _in(-1000)), "Params Error"),  # expired
        (ws_auth_args("nobody", SECRET, _in(5000)), "API key is invalid."),
        (["only-two", 1], "Params Error"),
    ):
        n = len(ws.frames)
        await ws.send({"op": "auth", "args": args})
        reply = await ws.wait_for(lambda f: f.get("op") == "auth", start=n)
        assert reply["success"] is False and reply["ret_msg"].startswith(why), reply
    n = len(ws.frames)
    await ws.send({"op": "subscribe", "args": ["order"]})
    refused = await ws.wait_for(lambda f: f.get("op") == "subscribe", start=n)
    assert refused["success"] is False and refused["ret_msg"] == "Request not authorized"
    assert (await ws.auth())["success"] is True
    n = len(ws.frames)
    await ws.send({"op": "auth", "args": ws_auth_args(KEY, SECRET, _in(5000))})
    assert (await ws.wait_for(lambda f: f.get("op") == "auth", start=n))["success"] is False


async def test_private_topics_by_category(server: BybitServer, rest: SignedRest,
                                          ws_connect: Any) -> None:
    spot_only: WsClient = await ws_connect(server.private_url)
    await spot_only.auth()
    await spot_only.send({"op": "subscribe", "args": ["order.spot", "position.linear"]})
    assert (await spot_only.wait_for(lambda f: f.get("op") == "subscribe"))["success"] is True
    mixed: WsClient = await ws_connect(server.private_url)
    await mixed.auth()
    await mixed.send({"op": "subscribe", "args": ["order", "order.linear"]})
    refused = await mixed.wait_for(lambda f: f.get("op") == "subscribe")
    assert refused["success"] is False
    await mixed.send({"op": "subscribe", "args": ["wallet"]})
    await mixed.wait_for(lambda f: f.get("op") == "subscribe" and f["success"])

    await rest.order(side="Buy", qty="0.1", price="99.0")  # linear
    await rest.post("/v5/order/create", {"category": "spot", "symbol": "ETHUSDT", "side": "Buy",
                                         "orderType": "Limit", "qty": "0.01",
                                         "price": "1990.00"})
    push = await spot_only.wait_for(lambda f: f.get("topic") == "order.spot")
    assert [o["category"] for o in push["data"]] == ["spot"]
    pos = await spot_only.wait_for(lambda f: f.get("topic") == "position.linear")
    assert pos["data"][0]["category"] == "linear"  # pushed on every order create
    assert not any(f.get("topic") in ("order", "order.linear") for f in spot_only.frames)
    # wallet: no snapshot on subscribe, a push when funds move.
    wallet = await mixed.wait_for(lambda f: f.get("topic") == "wallet")
    assert wallet["data"][0]["accountType"] == "UNIFIED"


async def test_accounts_are_separate(server: BybitServer, rest: SignedRest,
                                     ws_connect: Any) -> None:
    other: WsClient = await ws_connect(server.private_url)
    await other.auth(OTHER_KEY, OTHER_SECRET)
    await other.send({"op": "subscribe", "args": ["order", "execution"]})
    await other.wait_for(lambda f: f.get("op") == "subscribe")
    await rest.order(side="Buy", qty="0.1", price="100.0")
    server.push_trade("BTCUSDT", "100.0", "5", "Sell")
    mine = await rest.get("/v5/execution/list", "category=linear&symbol=BTCUSDT")
    assert len(mine["result"]["list"]) == 1
    theirs = SignedRest(server.base_url, OTHER_KEY, OTHER_SECRET)
    assert (await theirs.get("/v5/execution/list",
                             "category=linear&symbol=BTCUSDT"))["result"]["list"] == []
    await theirs.aclose()
    assert not any(f.get("topic") in ("order", "execution") for f in other.frames)


async def test_trade_socket_rules(ws_connect: Any) -> None:
    cfg = local_config(rate_limits={"/v5/order/create": 2})
    async with local_exchange(cfg) as server:
        ws: WsClient = await ws_connect(server.trade_url)

        def req(req_id: str, op: str = "order.create", **over: Any) -> dict[str, Any]:
            msg: dict[str, Any] = {
                "reqId": req_id, "op": op,
                "header": {"X-BAPI-TIMESTAMP": str(_in(0)), "X-BAPI-RECV-WINDOW": "5000"},
                "args": [{"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                          "orderType": "Limit", "qty": "0.1", "price": "99.0"}]}
            msg.update(over)
            return msg

        async def answer(msg: dict[str, Any]) -> dict[str, Any]:
            n = len(ws.frames)
            await ws.send(msg)
            return await ws.wait_for(lambda f: f.get("reqId") == msg["reqId"], start=n)  # type: ignore[no-any-return]

        assert (await answer(req("early")))["retCode"] == 10003  # not authenticated
        await ws.send({"op": "auth", "args": ws_auth_args(KEY, SECRET, _in(5000))})
        await ws.wait_for(lambda f: f.get("op") == "auth" and f["retCode"] == 0)
        first = await answer(req("r1"))
        assert first["retCode"] == 0 and first["header"]["X-Bapi-Limit-Status"] == "1"
        assert (await answer(req("r1")))["retCode"] == 20006  # reqId used twice
        stale = req("r2", header={"X-BAPI-TIMESTAMP": str(_in(-10_000))})
        assert (await answer(stale))["retCode"] == 10002
        assert (await answer(req("r3")))["retCode"] == 0
        limited = await answer(req("r4"))  # the third create within a second
        assert (limited["retCode"], limited["retMsg"]) == (10006, "Too many visits!")
        assert (await answer(req("r5", op="order.teleport")))["retCode"] == 10404
        oid = first["data"]["orderId"]
        amend = req("r6", op="order.amend", args=[{"category": "linear", "symbol": "BTCUSDT",
                                                  "orderId": oid, "price": "98.0"}])
        assert (await answer(amend))["data"] == {"orderId": oid, "orderLinkId": ""}
        gone = req("r7", op="order.cancel", args=[{"category": "linear", "symbol": "BTCUSDT",
                                                  "orderId": "nope"}])
        reply = await answer(gone)
        assert reply["retCode"] == 110001 and reply["data"] == {}


async def test_subscriptions_are_answered_after_a_round_trip_and_in_order(
        server: BybitServer, ws_connect: Any) -> None:
    """pybit registers a subscription only after sending it: an ack that came back at once
    raced it (a KeyError in pybit's thread, and the socket closed). Requests sent after a
    subscription are still answered after it."""
    ws: WsClient = await ws_connect(server.public_url("linear"))
    t0 = time.monotonic()
    await ws.send({"op": "subscribe", "req_id": "s1", "args": ["orderbook.50.BTCUSDT"]})
    await ws.send({"op": "ping", "req_id": "p1"})
    await ws.send({"op": "unsubscribe", "req_id": "u1", "args": ["orderbook.50.BTCUSDT"]})
    await ws.wait_for(lambda f: f.get("req_id") == "u1")
    assert time.monotonic() - t0 >= 0.02  # [server] subscribe_delay
    answers = [f.get("req_id") or f.get("topic") for f in ws.frames]
    assert answers[0] == "s1" and answers[-2:] == ["p1", "u1"], answers
    assert "orderbook.50.BTCUSDT" in answers  # the snapshot, between the ack and the pong


async def test_order_latency_holds_orders_back_on_both_paths(ws_connect: Any) -> None:
    """``[exchange] order_latency``: an order reaches the matching engine that long after it
    was sent, over REST and over the trade socket (a lower bound: never sooner)."""
    cfg = local_config(exchange={"order_latency": 0.25})
    async with local_exchange(cfg) as server:
        rest = SignedRest(server.base_url)
        try:
            sent_ms = int(time.time() * 1000)
            placed = await rest.order(side="Buy", qty="0.1", price="99.0", orderLinkId="by-rest")
            assert placed["retCode"] == 0
            order = server.account(KEY).orders[placed["result"]["orderId"]]
            assert order.created_ms >= sent_ms + 250
        finally:
            await rest.aclose()
        ws: WsClient = await ws_connect(server.trade_url)
        await ws.send({"op": "auth", "args": ws_auth_args(KEY, SECRET, _in(5000))})
        await ws.wait_for(lambda f: f.get("op") == "auth" and f["retCode"] == 0)
        sent_ms = int(time.time() * 1000)
        await ws.send({"reqId": "by-ws", "op": "order.create",
                       "header": {"X-BAPI-TIMESTAMP": str(_in(0)), "X-BAPI-RECV-WINDOW": "5000"},
                       "args": [{"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                 "orderType": "Limit", "qty": "0.1", "price": "98.0"}]})
        answer = await ws.wait_for(lambda f: f.get("reqId") == "by-ws")
        assert answer["retCode"] == 0
        order = server.account(KEY).orders[answer["data"]["orderId"]]
        assert order.created_ms >= sent_ms + 250
