"""Client errors get Bybit's error reply, the connection stays usable, and the log gets one
line with the reason (never a traceback; a flood is rate-limited).

REST: each bad request is signed (so it reaches the body checks) and sent on a raw
connection; then a normal request on the same connection succeeds. WebSockets: each bad
frame is answered in the stream's own shape, then a ping on the same socket is answered.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp
import pytest

from hayate_bybit.auth import rest_headers
from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.client_errors import ClientErrors, LogBudget
from hayate_paper.bybit_server.testing import (
    KEY,
    SECRET,
    ControlClient,
    WsClient,
    local_config,
)

pytestmark = pytest.mark.anyio

CLIENTS = "hayate_paper.bybit_server.clients"
DEEP = "[" * 5000 + "]" * 5000  # past any recursion limit
NESTED_17 = '{"a":' * 17 + "1" + "}" * 17
HUGE = json.dumps({"op": "ping", "pad": "x" * 70_000})
GOOD_ORDER = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
              "qty": "0.1", "price": "99.0"}


def signed(body: bytes) -> dict[str, str]:
    ts = int(time.time() * 1000)
    return {**rest_headers(KEY, SECRET, ts, body),
            "Content-Type": "application/json"}


# (case, body, retMsg) for POST /v5/order/create, signed.
REST_CASES = [
    ("bad JSON", b'{"category": "linear",', "params error: the request is not valid JSON"),
    ("deep nesting", DEEP.encode(), "params error: the request is nested deeper than 16 levels"),
    ("17 levels", NESTED_17.encode(), "params error: the request is nested deeper than 16 levels"),
    ("not an object", b'["linear"]', "params error: the request is not a JSON object"),
    ("wrong type", json.dumps({**GOOD_ORDER, "side": ["Buy"]}).encode(), "params error: side invalid"),
    ("wrong type (object)", json.dumps({**GOOD_ORDER, "orderId": {"a": 1}}).encode(),
     "params error: orderId invalid"),
    ("huge body", json.dumps({**GOOD_ORDER, "pad": "x" * 70_000}).encode(),
     "params error: the request is larger than 65536 bytes"),
    ("invalid UTF-8", b'{"category": "linear", "symbol": "\xff\xfe"}',
     "params error: the request is not valid UTF-8"),
    ("absurd number", json.dumps({**GOOD_ORDER, "qty": "1e300"}).encode(), "params error: qty invalid"),
]


@pytest.mark.parametrize(("case", "body", "message"), REST_CASES, ids=[c[0] for c in REST_CASES])
async def test_rest_client_errors(server: BybitServer, raw_http: Any, caplog: Any,
                                  assert_no_tracebacks: Any, case: str, body: bytes,
                                  message: str) -> None:
    with caplog.at_level(logging.INFO):
        conn = await raw_http(server)
        status, _, reply = await conn.request("POST", "/v5/order/create", body, signed(body))
        got = json.loads(reply)
        assert status == 200 and (got["retCode"], got["retMsg"]) == (10001, message)
        assert got["result"] == {} and got["retExtInfo"] == {} and isinstance(got["time"], int)
        good = json.dumps(GOOD_ORDER).encode()
        status, _, reply = await conn.request("POST", "/v5/order/create", good, signed(good))
        assert status == 200 and json.loads(reply)["retCode"] == 0  # same connection
    if case != "absurd number":  # a refused value, not a malformed request: not logged
        [line] = [r for r in caplog.records if r.name == CLIENTS]
        assert line.levelno == logging.INFO and message.removeprefix("params error: ") in line.getMessage()
    assert_no_tracebacks(caplog)


async def test_rest_body_larger_than_declared_limit_is_not_read(server: BybitServer,
                                                               raw_http: Any) -> None:
    """A Content-Length over the limit is refused before the body is read."""
    conn = await raw_http(server)
    await conn.send(b"POST /v5/order/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
    status, _, reply = await conn.response()
    assert status == 200 and json.loads(reply)["retMsg"] == (
        "params error: the request is larger than 65536 bytes")


async def test_malformed_http_is_one_line(server: BybitServer, raw_http: Any, caplog: Any,
                                          assert_no_tracebacks: Any) -> None:
    with caplog.at_level(logging.INFO):
        conn = await raw_http(server)
        await conn.send(b"GET /v5/market/time HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: "
                        + b"a" * 20_000 + b"\r\n\r\n")
        status, _, _ = await conn.response()
        assert status == 400
        conn = await raw_http(server)
        assert (await conn.request("GET", "/v5/market/time"))[0] == 200
    [line] = [r for r in caplog.records if r.name == CLIENTS]
    assert "malformed HTTP request (answered 400)" in line.getMessage()
    assert_no_tracebacks(caplog)


def _public(msg: str) -> dict[str, Any]:
    return {"success": False, "ret_msg": msg, "req_id": "", "op": ""}


def _private(msg: str) -> dict[str, Any]:
    return {"success": False, "ret_msg": msg, "op": ""}


def _trade(msg: str, code: int = 10001) -> dict[str, Any]:
    return {"retCode": code, "retMsg": msg, "op": ""}


# (case, frame: str | bytes (a raw text frame) | ("binary", bytes), reason)
FRAMES: list[tuple[str, Any, str]] = [
    ("bad JSON", '{"op": "subscribe", "args": [', "the request is not valid JSON"),
    ("deep nesting", DEEP, "the request is nested deeper than 16 levels"),
    ("17 levels", NESTED_17, "the request is nested deeper than 16 levels"),
    ("not an object", "[1, 2]", "the request is not a JSON object"),
    ("a string", '"ping"', "the request is not a JSON object"),
    ("huge frame", HUGE, "the request is larger than 65536 bytes"),
    ("invalid UTF-8", b'{"op": "\xff"}', "the request is not valid UTF-8"),
    ("binary frame", ("binary", b'{"op": "ping"}'), "binary frames are not supported: send JSON text"),
]
KINDS = ["public", "spot", "private", "private-authed", "trade", "trade-authed"]


async def _socket(server: BybitServer, ws_connect: Any, kind: str) -> WsClient:
    url = {"public": server.public_url("linear"), "spot": server.public_url("spot"),
           "private": server.private_url, "private-authed": server.private_url,
           "trade": server.trade_url, "trade-authed": server.trade_url}[kind]
    ws: WsClient = await ws_connect(url)
    if kind.endswith("authed"):
        reply = await ws.auth()
        assert reply.get("success") is True or reply.get("retCode") == 0
    return ws


async def _send(ws: WsClient, frame: Any) -> None:
    if isinstance(frame, tuple):
        await ws.ws.send_bytes(frame[1])
    elif isinstance(frame, bytes):
        await ws.ws.send_frame(frame, aiohttp.WSMsgType.TEXT)  # not UTF-8: as a raw text frame
    else:
        await ws.send(frame)


async def _still_answers(ws: WsClient, kind: str) -> None:
    n = len(ws.frames)
    if kind.startswith("trade"):
        await ws.send({"op": "ping"})
        await ws.wait_for(lambda f: f.get("op") == "pong", start=n)
    else:
        await ws.send({"op": "ping", "req_id": "after"})
        await ws.wait_for(lambda f: f.get("req_id") == "after" or "pong" in (f.get("op"), f.get("ret_msg")),
                          start=n)
    assert not ws.closed


def _expected(kind: str, reason: str) -> dict[str, Any]:
    if kind.startswith("trade"):
        return _trade(f"params error: {reason}")
    if kind.startswith("private"):
        return _private(f"error:{reason}")
    if kind == "spot":
        return {"success": False, "ret_msg": f"error:{reason}", "op": ""}
    return _public(f"error:{reason}")


@pytest.mark.parametrize("kind", KINDS)
async def test_socket_client_errors(server: BybitServer, ws_connect: Any, caplog: Any,
                                    assert_no_tracebacks: Any, kind: str) -> None:
    with caplog.at_level(logging.INFO):
        ws = await _socket(server, ws_connect, kind)
        for case, frame, reason in FRAMES:
            n = len(ws.frames)
            await _send(ws, frame)
            reply = await ws.wait_for(lambda f: True, start=n)
            want = _expected(kind, reason)
            assert {k: reply.get(k) for k in want} == want, (case, reply)
            await _still_answers(ws, kind)
    lines = [r.getMessage() for r in caplog.records if r.name == CLIENTS]
    assert len(lines) == len(FRAMES)
    for (_, _, reason), line in zip(FRAMES, lines, strict=True):
        assert reason in line
    assert_no_tracebacks(caplog)


# (case, request, kind -> expected fields of the reply)
BAD_OPS: list[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]] = [
    ("unknown op", {"op": "nope", "req_id": "r1", "reqId": "r1"}, {
        "public": {"success": False, "ret_msg": "error:invalid op:nope", "op": "nope", "req_id": "r1"},
        "private": {"success": False, "ret_msg": "error:invalid op:nope", "op": "nope", "req_id": "r1"},
        "trade": {"retCode": 10404, "retMsg": "op not found: nope", "op": "nope", "reqId": "r1"}}),
    ("op of the wrong type", {"op": ["x"], "req_id": "r2", "reqId": "r2"}, {
        "public": {"success": False, "ret_msg": "error:op must be a string", "op": ""},
        "private": {"success": False, "ret_msg": "error:op must be a string", "op": ""},
        "trade": {"retCode": 10404, "retMsg": "op must be a string", "op": ""}}),
    ("args of the wrong type", {"op": "subscribe", "args": "orderbook.1.BTCUSDT", "req_id": "r3"}, {
        "public": {"success": False, "ret_msg": "error:args must be a list of topic names"},
        "private": {"success": False, "ret_msg": "error:args must be a list of topic names"}}),
    ("a topic of the wrong type", {"op": "subscribe", "args": [{"topic": 1}], "req_id": "r4"}, {
        "public": {"success": False, "ret_msg": "error:args must be a list of topic names"},
        "private": {"success": False, "ret_msg": "error:args must be a list of topic names"}}),
    ("an order field of the wrong type", {"op": "order.create", "reqId": "r5", "args": [
        {**GOOD_ORDER, "side": ["Buy"]}]}, {
        "trade": {"retCode": 10001, "retMsg": "params error: side invalid", "reqId": "r5"}}),
    ("args that are not one object", {"op": "order.create", "reqId": "r6", "args": "x"}, {
        "trade": {"retCode": 10001, "retMsg": "params error: args must hold one object"}}),
    ("a reqId over 36 characters", {"op": "order.create", "reqId": "r" * 37, "args": [GOOD_ORDER]}, {
        "trade": {"retCode": 10001, "retMsg": "params error: reqId is longer than 36 characters"}}),
]


@pytest.mark.parametrize("kind", ["public", "private-authed", "trade-authed"])
async def test_bad_ops_are_answered(server: BybitServer, ws_connect: Any, caplog: Any,
                                    assert_no_tracebacks: Any, kind: str) -> None:
    family = kind.removesuffix("-authed")
    with caplog.at_level(logging.INFO):
        ws = await _socket(server, ws_connect, kind)
        for case, request, expected in BAD_OPS:
            if family not in expected:
                continue
            if family == "trade":
                request = {**request, "header": {"X-BAPI-TIMESTAMP": str(int(time.time() * 1000))}}
            n = len(ws.frames)
            await ws.send(request)
            reply = await ws.wait_for(lambda f: True, start=n)
            want = expected[family]
            assert {k: reply.get(k) for k in want} == want, (case, reply)
            await _still_answers(ws, kind)
    assert [r for r in caplog.records if r.name == CLIENTS]
    assert_no_tracebacks(caplog)


async def test_the_trade_socket_survives_an_unhashable_op(server: BybitServer,
                                                          ws_connect: Any) -> None:
    """The frame of the issue: it used to kill the socket (``unhashable type``)."""
    for auth in (False, True):
        ws = await _socket(server, ws_connect, "trade-authed" if auth else "trade")
        await ws.send('{"op":["x"]}')
        await ws.wait_for(lambda f: f.get("retMsg") == "op must be a string")
        await _still_answers(ws, "trade")


async def test_a_frame_over_one_mebibyte_closes_the_socket(server: BybitServer, ws_connect: Any,
                                                           caplog: Any,
                                                           assert_no_tracebacks: Any) -> None:
    with caplog.at_level(logging.INFO):
        ws = await _socket(server, ws_connect, "public")
        await ws.send("x" * ((1 << 20) + 1))
        await ws.wait_closed()
        assert ws.ws.close_code == 1009
    assert any("socket closed" in r.getMessage() for r in caplog.records if r.name == CLIENTS)
    assert_no_tracebacks(caplog)


async def test_a_flood_is_answered_but_logged_at_a_bounded_rate(ws_connect: Any, caplog: Any,
                                                                 assert_no_tracebacks: Any) -> None:
    errors = ClientErrors(burst=5, per=1e9)  # no refill during the test, however slow it runs
    with caplog.at_level(logging.INFO):
        async with BybitServer(local_config(), client_errors=errors) as server:
            ws = await _socket(server, ws_connect, "public")
            for _ in range(300):
                await ws.send("not json")
            await _still_answers(ws, "public")
            answered = [f for f in ws.frames if f.get("ret_msg") == "error:the request is not valid JSON"]
            assert len(answered) == 300
            async with ControlClient(server) as control:
                assert (await control.status())["client_errors"] == {"public": 300}
    lines = [r for r in caplog.records if r.name == CLIENTS]
    assert len(lines) == 5
    assert_no_tracebacks(caplog)


def test_the_log_budget_refills_and_says_what_it_left_out(caplog: Any) -> None:
    now = [0.0]
    errors = ClientErrors(burst=2, per=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger=CLIENTS):
        for _ in range(5):
            errors.note("rest", "bad JSON", "127.0.0.1")
        now[0] = 5.0  # half the period: one line's worth
        errors.note("rest", "bad JSON", "127.0.0.1")
        errors.note("trade", "other channel, own budget")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "rest client error from 127.0.0.1: bad JSON",
        "rest client error from 127.0.0.1: bad JSON",
        "rest client error from 127.0.0.1: bad JSON (3 more rest client errors not logged)",
        "trade client error: other channel, own budget",
    ]
    assert errors.counts == {"rest": 6, "trade": 1}
    budget = LogBudget(burst=1, per=1.0)
    assert [budget.take(t) for t in (0.0, 0.5, 1.0, 1.0)] == [True, False, True, False]


async def test_control_body_errors(server: BybitServer, caplog: Any,
                                   assert_no_tracebacks: Any) -> None:
    with caplog.at_level(logging.INFO):
        async with ControlClient(server) as control:
            for body, status, error in (
                    (DEEP.encode(), 400, "the request is nested deeper than 16 levels"),
                    (b"\xff", 400, "the request is not valid UTF-8"),
                    (b"[]", 400, "the request is not a JSON object"),
                    (b"x" * ((1 << 20) + 1), 413, "the request is larger than 1048576 bytes"),
                    (b'{"symbol": "BTCUSDT", "trades": [{"price": [1]}]}', 400, None)):
                r = await control.post("market", body)
                assert r.status_code == status and r.json()["ok"] is False
                if error is not None:
                    assert r.json()["error"] == error
            assert (await control.fault("clear")).status_code == 200
    assert_no_tracebacks(caplog)


def test_the_docs_table_is_what_clients_get() -> None:
    """docs/paper-serve.md lists each client error's reply exactly."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "paper-serve.md").read_text()
    table = doc[doc.index("| client error |"):].split("\n\n")[0]
    cells = {c.strip().strip("`") for line in table.splitlines() for c in line.split("|")}
    for case, _, message in REST_CASES:
        if case not in ("absurd number", "17 levels", "wrong type (object)"):
            assert message in cells, message
    for _, _, reason in FRAMES:
        assert f"error:{reason}" in cells and any(
            c.startswith(f"params error: {reason}") for c in cells), reason
    for expected in BAD_OPS:
        for reply in expected[2].values():
            text = reply.get("ret_msg") or reply.get("retMsg")
            if text and "nope" not in text:
                assert any(c.startswith(text) for c in cells), text
