"""Signed requests are checked as Bybit checks them; limits count per account and endpoint."""

from __future__ import annotations

import re
import time

import pytest

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    SignedRest,
    local_config,
)

pytestmark = pytest.mark.anyio

_10002 = re.compile(r"^invalid request, please check your server timestamp or recv_window param\. "
                    r"req_timestamp\[(\d+)\],server_timestamp\[(\d+)\],recv_window\[(\d+)\]$")


async def test_wrong_secret_is_10004_with_the_origin_string(rest: SignedRest) -> None:
    query = "category=linear&symbol=BTCUSDT"
    ts = int(time.time() * 1000)
    got = await rest.get("/v5/order/realtime", query, secret="not-the-secret", ts=ts)
    assert got["retCode"] == 10004
    assert got["retMsg"] == f"error sign! origin_string[{ts}{KEY}5000{query}]"
    assert SECRET not in got["retMsg"]
    body = '{"category": "linear", "symbol": "BTCUSDT"}'
    got = await rest.post("/v5/order/cancel-all", body, secret="nope", ts=ts)
    assert got["retCode"] == 10004 and got["retMsg"].endswith(f"5000{body}]")


async def test_the_signature_covers_the_query_exactly_as_sent(rest: SignedRest) -> None:
    # Any parameter order works if the signed string is the sent one (pybit sorts, others not).
    for query in ("symbol=BTCUSDT&category=linear", "category=linear&symbol=BTCUSDT"):
        assert (await rest.get("/v5/order/realtime", query))["retCode"] == 0
    # A body re-serialised with other whitespace is another body: the signature must match it.
    assert (await rest.post("/v5/order/cancel-all",
                            '{"category":"linear",  "symbol":"BTCUSDT"}'))["retCode"] == 0


async def test_unknown_key_is_10003(rest: SignedRest) -> None:
    got = await rest.get("/v5/position/list", "category=linear&symbol=BTCUSDT", key="nobody")
    assert (got["retCode"], got["retMsg"]) == (10003, "API key is invalid.")


async def test_timestamp_window(server: BybitServer, rest: SignedRest) -> None:
    now = int(time.time() * 1000)
    server.rest.now_ms = lambda: now  # the server's clock stands still: the edges are exact
    q = "accountType=UNIFIED"
    old = await rest.get("/v5/account/wallet-balance", q, ts=now - 6000)
    m = _10002.match(old["retMsg"])
    assert old["retCode"] == 10002 and m, old
    assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (now - 6000, now, 5000)
    # server_time - recv_window <= timestamp < server_time + 1000
    codes = [(await rest.get("/v5/account/wallet-balance", q, ts=now + d))["retCode"]
             for d in (-5001, -5000, 999, 1000)]
    assert codes == [10002, 0, 0, 10002]
    # A wider recv window accepts the same age.
    assert (await rest.get("/v5/account/wallet-balance", q, ts=now - 6000,
                           recv_window=20000))["retCode"] == 0
    # More than 1 s ahead of the server is refused whatever the window.
    ahead = await rest.get("/v5/account/wallet-balance", q, ts=now + 1500, recv_window=60000)
    assert ahead["retCode"] == 10002
    assert (await rest.get("/v5/account/wallet-balance", q, ts=now + 300))["retCode"] == 0


async def test_unknown_route_is_404_with_10017(rest: SignedRest) -> None:
    r = await rest.client.get("/v5/no/such/thing")
    assert r.status_code == 404 and r.json()["retCode"] == 10017


async def test_rate_limit_headers_and_10006() -> None:
    cfg = local_config(rate_limits={"/v5/order/realtime": 3})
    async with BybitServer(cfg) as server:
        # The test steps the server's clock, and signs with the same time, so however slow
        # the machine every request lands in the window the test means.
        clock = [int(time.time() * 1000)]
        server.rest.now_ms = lambda: clock[0]
        rest = SignedRest(server.base_url)
        other = SignedRest(server.base_url, OTHER_KEY, OTHER_SECRET)
        q = "category=linear&symbol=BTCUSDT"
        statuses = []
        for _ in range(3):
            r = await rest.get_raw("/v5/order/realtime", q, ts=clock[0])
            assert r.json()["retCode"] == 0
            assert r.headers["X-Bapi-Limit"] == "3"
            statuses.append(int(r.headers["X-Bapi-Limit-Status"]))
        assert statuses == [2, 1, 0]
        over = await rest.get_raw("/v5/order/realtime", q, ts=clock[0])
        body = over.json()
        assert (body["retCode"], body["retMsg"]) == (10006, "Too many visits!")
        reset = int(over.headers["X-Bapi-Limit-Reset-Timestamp"])
        assert reset == clock[0] + 1000  # a rolling second from the first request
        # Per account and per endpoint: others are not affected.
        assert (await other.get("/v5/order/realtime", q, ts=clock[0]))["retCode"] == 0
        assert (await rest.get("/v5/order/history", q, ts=clock[0]))["retCode"] == 0
        # The window rolls: at the reset time the account may ask again.
        clock[0] = reset - 1
        assert (await rest.get("/v5/order/realtime", q, ts=clock[0]))["retCode"] == 10006
        clock[0] = reset
        again = await rest.get_raw("/v5/order/realtime", q, ts=clock[0])
        assert again.json()["retCode"] == 0 and again.headers["X-Bapi-Limit-Status"] == "2"
        await rest.aclose()
        await other.aclose()


async def test_order_limits_follow_bybit_per_category(server: BybitServer) -> None:
    limiter = server.limiter
    assert limiter.limit_for("/v5/order/create", "linear") == 10
    assert limiter.limit_for("/v5/order/create", "spot") == 20
    assert limiter.limit_for("/v5/order/cancel-all", "option") == 1
    assert limiter.limit_for("/v5/position/list", "linear") == 50


async def test_public_endpoints_need_no_signature(rest: SignedRest) -> None:
    before = time.time_ns() // 1_000_000
    r = await rest.client.get("/v5/market/time")
    after = time.time_ns() // 1_000_000
    body = r.json()
    assert body["retCode"] == 0 and "X-Bapi-Limit" not in r.headers
    assert int(body["result"]["timeNano"]) // 1_000_000_000 == int(body["result"]["timeSecond"])
    assert before <= body["time"] <= after  # the server's time, taken while it answered
