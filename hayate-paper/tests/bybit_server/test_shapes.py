"""Every reply and push has the shape of Bybit's real messages (the samples in hayate_bybit.testing).

For each sample: every key Bybit sends is there, with the same JSON type (numbers as
strings stay strings, ms times in records stay strings, ``u``/``ts`` stay numbers); control
frames (acks, pongs) have exactly Bybit's keys. Extra keys are allowed for data (Bybit
adds fields over time, and the samples are of different vintages).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from hayate_bybit.auth import ws_auth_args
from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import KEY, SECRET, SignedRest, WsClient

pytestmark = pytest.mark.anyio

# Keys whose value legitimately differs in type between vintages or cases.
_LOOSE = {"extraFees", "preListingInfo"}
_MAPS = {"cumFeeDetail"}  # {coin: amount}: the coins differ


def assert_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    if theirs is None:
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected an object, got {ours!r}"
        missing = sorted(set(theirs) - set(ours))
        assert not missing, f"{path}: missing {missing}"
        for k, v in theirs.items():
            if k in _LOOSE:
                continue
            if k in _MAPS:
                assert isinstance(ours[k], dict), f"{path}.{k}"
                continue
            assert_shape(ours[k], v, f"{path}.{k}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: expected a list, got {ours!r}"
        if theirs and ours:
            assert_shape(ours[0], theirs[0], f"{path}[0]")
    else:
        assert type(ours) is type(theirs), \
            f"{path}: {type(ours).__name__} {ours!r}, Bybit sends {type(theirs).__name__} {theirs!r}"


def assert_same_keys(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours) == set(theirs), f"{sorted(ours)} != {sorted(theirs)}"
    assert_shape(ours, theirs)


async def test_market_endpoints(server: BybitServer, rest: SignedRest,
                                sample: Callable[[str], Any]) -> None:
    server.push_trade("ETHUSDT", "2000.00", "0.5", "Sell")
    server.push_trade("BTCUSDT", "100.1", "0.2", "Buy")
    cases = [
        ("/v5/market/time", "", "rest_server_time.json"),
        ("/v5/market/instruments-info", "category=linear", "rest_instruments_info_linear.json"),
        ("/v5/market/instruments-info", "category=spot", "rest_instruments_info_spot.json"),
        ("/v5/market/orderbook", "category=spot&symbol=ETHUSDT", "rest_orderbook.json"),
        ("/v5/market/tickers", "category=linear", "rest_tickers_inverse.json"),
        ("/v5/market/recent-trade", "category=spot&symbol=ETHUSDT", "rest_recent_trade.json"),
    ]
    for path, query, name in cases:
        got = await rest.public(path, query)
        assert got["retCode"] == 0, (path, got)
        assert_same_keys(got, sample(name))  # the envelope: exactly Bybit's keys
        assert_shape(got, sample(name), f"{path}?{query}")


async def test_trading_endpoints(server: BybitServer, rest: SignedRest,
                                 sample: Callable[[str], Any]) -> None:
    empty = await rest.get("/v5/order/realtime", "category=linear&symbol=BTCUSDT")
    assert empty["result"]["list"] == []
    assert_same_keys(empty["result"], sample("rest_order_realtime_empty.json")["result"])

    created = await rest.order(side="Buy", qty="0.1", price="100.0", timeInForce="PostOnly",
                               orderLinkId="shape-1")
    assert_same_keys(created["result"], sample("rest_order_create.json")["result"])
    amended = await rest.post("/v5/order/amend", {"category": "linear", "symbol": "BTCUSDT",
                                                  "orderLinkId": "shape-1", "qty": "0.2"})
    assert_same_keys(amended["result"], sample("rest_order_amend.json")["result"])
    realtime = await rest.get("/v5/order/realtime", "category=linear&symbol=BTCUSDT")
    assert_shape(realtime, sample("rest_order_realtime.json"))

    server.push_trade("BTCUSDT", "100.0", "5", "Sell")  # fills shape-1 (2 ahead of it)
    history = await rest.get("/v5/order/history", "category=linear&symbol=BTCUSDT")
    assert_shape(history, sample("rest_order_history.json"))
    execs = await rest.get("/v5/execution/list", "category=linear&symbol=BTCUSDT")
    assert execs["result"]["list"], execs
    assert_shape(execs, sample("rest_execution_list.json"))
    positions = await rest.get("/v5/position/list", "category=linear&symbol=BTCUSDT")
    assert_shape(positions, sample("rest_position_list.json"))
    wallet = await rest.get("/v5/account/wallet-balance", "accountType=UNIFIED")
    assert_shape(wallet, sample("rest_wallet_balance.json"))

    await rest.order(side="Buy", qty="0.1", price="99.0", orderLinkId="shape-2")
    cancelled = await rest.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT",
                                                     "orderLinkId": "shape-2"})
    assert_same_keys(cancelled["result"], sample("rest_order_cancel.json")["result"])
    await rest.order(side="Buy", qty="0.1", price="99.0", orderLinkId="shape-3")
    all_ = await rest.post("/v5/order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"})
    assert_same_keys(all_["result"], sample("rest_order_cancel_all.json")["result"])
    assert_shape(all_, sample("rest_order_cancel_all.json"))
    assert all_["result"]["success"] == "1"

    batch = await rest.post("/v5/order/create-batch", {"category": "linear", "request": [
        {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "98.0"},
        {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "98.0"},
    ]})
    assert_shape(batch, sample("rest_order_create_batch.json"))


async def test_error_replies(rest: SignedRest, sample: Callable[[str], Any]) -> None:
    no_id = await rest.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT"})
    expected = sample("rest_error_10001_cancel_no_id.json")
    assert_same_keys(no_id, expected)
    assert (no_id["retCode"], no_id["retMsg"]) == (expected["retCode"], expected["retMsg"])
    assert no_id["result"] == {} and no_id["retExtInfo"] == {}
    bad_side = await rest.order(side="buy", qty="0.1", price="100.0")
    expected = sample("rest_error_10001_params.json")
    assert (bad_side["retCode"], bad_side["retMsg"]) == (expected["retCode"], expected["retMsg"])
    unknown = await rest.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT",
                                                   "orderId": "no-such-order"})
    assert unknown["retCode"] == sample("rest_error_110001_order_not_exists.json")["retCode"]


async def test_private_stream_shapes(server: BybitServer, rest: SignedRest, ws_connect: Any,
                                     sample: Callable[[str], Any]) -> None:
    ws: WsClient = await ws_connect(server.private_url)
    auth = await ws.auth()
    assert_same_keys(auth, {"req_id": "", **sample("ws_auth_response.json")})
    await ws.send({"op": "subscribe", "args": ["order", "execution", "execution.fast",
                                              "position", "wallet"]})
    ack = await ws.wait_for(lambda f: f.get("op") == "subscribe")
    assert_same_keys(ack, sample("ws_subscribe_response_private.json"))
    await ws.send({"req_id": "test", "op": "ping"})
    pong = await ws.wait_for(lambda f: f.get("op") == "pong")
    assert_same_keys(pong, sample("ws_pong_private.json"))
    assert isinstance(pong["args"][0], str) and pong["req_id"] == "test"

    await rest.order(side="Buy", qty="0.1", price="100.0", timeInForce="PostOnly")
    server.push_trade("BTCUSDT", "100.0", "5", "Sell")
    for topic, name in (("order", "ws_private_order.json"),
                        ("execution", "ws_private_execution.json"),
                        ("execution.fast", "ws_private_execution_fast.json"),
                        ("position", "ws_private_position.json"),
                        ("wallet", "ws_private_wallet.json")):
        push = await ws.wait_for(lambda f, t=topic: f.get("topic") == t)
        assert_shape(push, sample(name), topic)


async def test_public_stream_shapes(server: BybitServer, ws_connect: Any,
                                    sample: Callable[[str], Any]) -> None:
    linear: WsClient = await ws_connect(server.public_url("linear"))
    await linear.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT",
                                                   "tickers.BTCUSDT"]})
    ack = await linear.wait_for(lambda f: f.get("op") == "subscribe")
    assert_same_keys(ack, sample("ws_subscribe_response.json"))
    snap = await linear.wait_for(lambda f: f.get("topic") == "orderbook.50.BTCUSDT")
    assert_same_keys(snap, sample("ws_public_orderbook_snapshot_linear.json"))
    assert_shape(snap, sample("ws_public_orderbook_snapshot_linear.json"))
    ticker = await linear.wait_for(lambda f: f.get("topic") == "tickers.BTCUSDT")
    assert_same_keys(ticker, sample("ws_public_ticker_linear_snapshot_real.json"))
    assert_shape(ticker, sample("ws_public_ticker_linear_snapshot.json"))
    server.push_book("BTCUSDT", [("100.0", "1")], [("100.1", "0")], snapshot=False)
    server.push_trade("BTCUSDT", "100.0", "1", "Sell")
    delta = await linear.wait_for(lambda f: f.get("type") == "delta" and f["topic"].startswith("orderbook"))
    assert_same_keys(delta, sample("ws_public_orderbook_delta_linear.json"))
    assert_shape(delta, sample("ws_public_orderbook_delta_linear.json"))
    trade = await linear.wait_for(lambda f: f.get("topic") == "publicTrade.BTCUSDT")
    assert_shape(trade, sample("ws_public_trade.json"))
    tdelta = await linear.wait_for(lambda f: f.get("topic") == "tickers.BTCUSDT" and f["type"] == "delta")
    expected = sample("ws_public_ticker_linear_delta.json")
    assert set(tdelta) == set(expected)
    # A delta holds only what changed: compare the fields both have, and the mark moved.
    assert "markPrice" in tdelta["data"] and tdelta["data"]["symbol"] == "BTCUSDT"
    common = set(tdelta["data"]) & set(expected["data"])
    assert_shape({k: tdelta["data"][k] for k in common}, {k: expected["data"][k] for k in common})
    await linear.send({"op": "ping"})
    pong = await linear.wait_for(lambda f: f.get("ret_msg") == "pong")
    assert_same_keys(pong, sample("ws_pong_public_linear.json"))

    spot: WsClient = await ws_connect(server.public_url("spot"))
    await spot.send({"req_id": "10001", "op": "subscribe", "args": ["tickers.ETHUSDT"]})
    ack = await spot.wait_for(lambda f: f.get("op") == "subscribe")
    assert_same_keys(ack, sample("ws_subscribe_response_spot.json"))
    assert ack["ret_msg"] == "subscribe" and ack["req_id"] == "10001"
    sticker = await spot.wait_for(lambda f: f.get("topic") == "tickers.ETHUSDT")
    assert_same_keys(sticker, sample("ws_public_ticker_spot.json"))
    assert_shape(sticker, sample("ws_public_ticker_spot.json"))
    await spot.send({"op": "ping"})
    assert_same_keys(await spot.wait_for(lambda f: f.get("ret_msg") == "pong"),
                     sample("ws_pong_public_spot.json"))

    option: WsClient = await ws_connect(server.public_url("option"))
    await option.send({"op": "ping"})
    assert_same_keys(await option.wait_for(lambda f: f.get("op") == "pong"),
                     sample("ws_pong_public_option.json"))
    await option.send({"op": "subscribe", "args": ["orderbook.25.NOSUCH-1JAN30-1-C"]})
    resp = await option.wait_for(lambda f: f.get("type") == "COMMAND_RESP")
    assert_same_keys(resp, sample("ws_subscribe_response_option.json"))
    assert resp["success"] is False and resp["data"]["failTopics"]


async def test_trade_socket_shapes(server: BybitServer, ws_connect: Any,
                                   sample: Callable[[str], Any]) -> None:
    ws: WsClient = await ws_connect(server.trade_url)
    await ws.send({"op": "auth", "args": ws_auth_args(KEY, SECRET, int(time.time() * 1000) + 5000)})
    auth = await ws.wait_for(lambda f: f.get("op") == "auth")
    assert_same_keys(auth, sample("ws_trade_auth_response.json"))
    assert auth["retCode"] == 0
    await ws.send({"op": "ping"})
    assert_same_keys(await ws.wait_for(lambda f: f.get("op") == "pong"), sample("ws_trade_pong.json"))
    request = sample("ws_trade_order_create_request.json")
    request["header"]["X-BAPI-TIMESTAMP"] = str(int(time.time() * 1000))
    request["args"][0].update(symbol="BTCUSDT", price="99.0", qty="0.1")
    await ws.send(request)
    reply = await ws.wait_for(lambda f: f.get("op") == "order.create")
    expected = sample("ws_trade_order_create_response.json")
    assert_same_keys(reply, expected)
    assert_same_keys(reply["header"], expected["header"])
    assert_shape(reply, expected)
    assert reply["retCode"] == 0 and reply["reqId"] == "test-005"
    batch = sample("ws_trade_order_create_batch_request.json")
    batch["header"]["X-BAPI-TIMESTAMP"] = str(int(time.time() * 1000))
    batch["header"]["X-BAPI-RECV-WINDOW"] = "5000"
    for item in batch["args"][0]["request"]:
        item.update(symbol="BTCUSDT", positionIdx=1)  # one-way mode: every item fails
        item["orderLinkId"] = item["orderLinkId"].lstrip("-")
    await ws.send(batch)
    reply = await ws.wait_for(lambda f: f.get("op") == "order.create-batch")
    expected = sample("ws_trade_order_create_batch_response.json")
    assert_same_keys(reply, {**expected})
    assert_shape(reply, expected)
    assert reply["retCode"] == 0
    assert reply["retExtInfo"] == expected["retExtInfo"]  # the same three refusals, Bybit's words
