"""``BybitRest``: what goes on the wire is what was signed (and equals pybit's signature),
timestamps follow the server's clock, errors are typed, and only safe requests are retried.

Wire-level checks capture the request bytes with an httpx MockTransport (no socket); the
behaviour under faults is checked against the local exchange over 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from pybit._http_manager import generate_signature
from pydantic import SecretStr

from hayate.clock import SimClock
from hayate_bybit.auth import verify_rest_signature
from hayate_bybit.rest import (
    BybitAuthError,
    BybitRateLimited,
    BybitRequestError,
    BybitRest,
    BybitServerError,
    BybitTimeout,
    BybitTimestampError,
    BybitUnavailable,
    DuplicateOrderLinkId,
    OrderNotFound,
    RateLimiter,
    error_for,
)

pytestmark = pytest.mark.anyio

KEY = "XXXXXXXXXX"
SECRET = "0123456789abcdefghijklmnopqrstuvwxyzABCD"


class Recorder:
    """A MockTransport handler: records requests, answers from a queue or a default."""

    def __init__(self, *bodies: Any, server_ms: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.bodies = list(bodies)
        self.server_ms = server_ms
        self.headers = headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v5/market/time":
            ms = self.server_ms if self.server_ms is not None else time.time_ns() // 10**6
            return httpx.Response(200, json={"retCode": 0, "retMsg": "OK", "result": {
                "timeSecond": str(ms // 1000), "timeNano": str(ms * 10**6)}, "time": ms})
        body = self.bodies.pop(0) if self.bodies else {"retCode": 0, "result": {}}
        if isinstance(body, httpx.Response):
            return body
        return httpx.Response(200, json=body, headers=self.headers)


def client(handler: Recorder, **kw: Any) -> BybitRest:
    return BybitRest("https://api.example", SecretStr(KEY), SecretStr(SECRET),
                     transport=httpx.MockTransport(handler), **kw)


async def test_get_signs_the_query_exactly_as_sent() -> None:
    rec = Recorder()
    async with client(rec) as rest:
        await rest.get("/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT",
                                              "orderLinkId": "hy-1-a"})
    req = rec.requests[0]
    query = req.url.query.decode()
    assert query == "category=linear&symbol=BTCUSDT&orderLinkId=hy-1-a"
    h = req.headers
    assert h["X-BAPI-SIGN"] == generate_signature(
        False, SECRET, h["X-BAPI-TIMESTAMP"] + KEY + h["X-BAPI-RECV-WINDOW"] + query)
    assert h["X-BAPI-API-KEY"] == KEY and h["X-BAPI-RECV-WINDOW"] == "5000"
    assert SECRET not in str(req.headers)


async def test_post_signs_the_body_bytes_as_sent() -> None:
    rec = Recorder()
    async with client(rec, recv_window=8000) as rest:
        await rest.post("/v5/order/create", {"category": "linear", "symbol": "BTCUSDT",
                                             "side": "Buy", "orderType": "Limit",
                                             "qty": "0.001", "price": "30000.5",
                                             "orderLinkId": "x-1"})
    req = rec.requests[0]
    body = req.content
    assert json.loads(body)["price"] == "30000.5"
    h = req.headers
    assert h["Content-Type"] == "application/json" and h["X-BAPI-RECV-WINDOW"] == "8000"
    assert verify_rest_signature(SECRET, h["X-BAPI-SIGN"], h["X-BAPI-TIMESTAMP"], KEY, "8000",
                                 body)
    assert h["X-BAPI-SIGN"] == generate_signature(
        False, SECRET, h["X-BAPI-TIMESTAMP"] + KEY + "8000" + body.decode())


async def test_timestamps_follow_the_server_clock() -> None:
    ours = 1_700_000_000_000  # ms: our clock stands still, so every figure is exact
    ahead = ours + 7_000  # the server's clock is 7 s ahead of ours
    rec = Recorder(server_ms=ahead)
    async with client(rec, clock=SimClock(ours * 10**6)) as rest:
        offset = await rest.sync_time()
        await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    assert offset == 7_000
    sent = int(rec.requests[-1].headers["X-BAPI-TIMESTAMP"])
    # Our time plus the offset: the server's own time, so never ahead of it by a second
    # (Bybit's hard limit, whatever the window).
    assert sent == ahead


async def test_timestamp_refusal_resyncs_once(samples: Path) -> None:
    refused = json.loads((samples / "rest_error_10002_timestamp.json").read_text())
    rec = Recorder(refused, {"retCode": 0, "result": {"ok": 1}})
    async with client(rec) as rest:
        reply = await rest.get("/v5/order/realtime", {"category": "linear"})
    assert reply.result == {"ok": 1}
    assert [r.url.path for r in rec.requests] == [
        "/v5/order/realtime", "/v5/market/time", "/v5/order/realtime"]
    rec = Recorder(refused, refused)
    async with client(rec) as rest:
        with pytest.raises(BybitTimestampError, match="req_timestamp"):
            await rest.get("/v5/order/realtime", {"category": "linear"})


@pytest.mark.parametrize(("name", "kind"), [
    ("rest_error_10001_params.json", BybitRequestError),
    ("rest_error_10001_cancel_no_id.json", BybitRequestError),
    ("rest_error_110001_order_not_exists.json", OrderNotFound),
])
async def test_real_error_bodies_raise_typed_errors(samples: Path, name: str,
                                                    kind: type[Exception]) -> None:
    body = json.loads((samples / name).read_text())
    async with client(Recorder(body)) as rest:
        with pytest.raises(kind) as info:
            await rest.post("/v5/order/cancel", {"category": "linear"})
    assert info.value.code == body["retCode"] and body["retMsg"] in str(info.value)


def test_error_mapping() -> None:
    sig = error_for(10004, "error sign! origin_string[1700000000000KEY5000{}]", "/v5/x")
    assert isinstance(sig, BybitAuthError)
    assert "KEY" not in str(sig) and "check the API secret" in str(sig)
    assert isinstance(error_for(10003, "API key is invalid."), BybitAuthError)
    assert isinstance(error_for(110072, "OrderLinkedID is duplicate"), DuplicateOrderLinkId)
    assert isinstance(error_for(170141, "Duplicate clientOrderId."), DuplicateOrderLinkId)
    assert isinstance(error_for(10016, "server error"), BybitServerError)
    limited = error_for(10006, "Too many visits!", reset_ms=123)
    assert isinstance(limited, BybitRateLimited) and limited.reset_ms == 123


async def test_a_post_that_may_have_arrived_is_not_retried() -> None:
    rec = Recorder(httpx.Response(503, text="<html>503</html>"))
    async with client(rec) as rest:
        with pytest.raises(BybitServerError):
            await rest.post("/v5/order/create", {"category": "linear"})
    assert len(rec.requests) == 1
    rec = Recorder(httpx.Response(503, text="<html>503</html>"), {"retCode": 0, "result": {}})
    async with client(rec) as rest:
        await rest.get("/v5/order/realtime", {"category": "linear"})  # a GET is retried
    assert len(rec.requests) == 2


async def test_unreachable_venue_is_retried_then_reported() -> None:
    async with BybitRest("http://127.0.0.1:9", SecretStr(KEY), SecretStr(SECRET),
                         connect_retries=1) as rest:
        with pytest.raises(BybitUnavailable, match="cannot connect"):
            await rest.post("/v5/order/create", {"category": "linear"})


def test_limiter_follows_the_headers() -> None:
    now = [1_000_000]
    lim = RateLimiter(lambda: now[0])
    key = "/v5/order/create"
    assert all(lim.try_acquire(key) for _ in range(10))
    assert not lim.try_acquire(key)  # Bybit's default: 10 a second
    now[0] += 1100
    lim.update(key, {"X-Bapi-Limit": "3", "X-Bapi-Limit-Status": "2",
                     "X-Bapi-Limit-Reset-Timestamp": str(now[0])})
    assert [lim.try_acquire(key) for _ in range(4)] == [True, True, True, False]
    now[0] += 1100
    lim.update(key, {"X-Bapi-Limit": "3", "X-Bapi-Limit-Status": "0",
                     "X-Bapi-Limit-Reset-Timestamp": str(now[0] + 400)})
    assert lim.delay_ms(key) == 400  # spent: wait for Bybit's reset, not our own guess
    assert lim.refused(key, 0) == 1000  # a 10006 without a reset: a whole window
    assert lim.delay_ms("/v5/order/create#spot") == 0  # spot is counted apart


# -- against the local exchange ------------------------------------------------------------------

async def test_10006_burst_is_waited_out(live: Any) -> None:
    async with live.exchange() as server, BybitRest(server.base_url, SecretStr(live.api_key),
                         SecretStr(live.api_secret)) as rest:
        await rest.sync_time()
        server.inject("rate_limit", count=3)
        started = time.monotonic()
        reply = await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        assert reply.result["list"][0]["coin"][0]["coin"] == "USDT"
        assert rest.limiter.refusals == 3
        # Three resets of a second each were waited out, not hammered. A lower bound: a
        # loaded machine can only make it longer.
        assert time.monotonic() - started > 2.5


async def test_rate_limit_wait_has_a_bound(live: Any) -> None:
    async with live.exchange() as server, BybitRest(server.base_url, SecretStr(live.api_key),
                         SecretStr(live.api_secret), max_rate_wait=1.5) as rest:
        server.inject("rate_limit", count=10)
        with pytest.raises(BybitRateLimited, match="Too many visits"):
            await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})


async def test_own_limiter_spreads_a_burst(live: Any) -> None:
    """With the venue's announced limit learned from the first answer, a burst is paced
    so the venue has (almost) nothing to refuse."""
    async with (live.exchange(rate_limits={"/v5/order/realtime": 4}) as server,
                BybitRest(server.base_url, SecretStr(live.api_key),
                          SecretStr(live.api_secret)) as rest):
        key = "/v5/order/realtime"
        await rest.get(key, {"category": "linear", "symbol": "BTCUSDT"})  # learns: 4 a second
        limiter = rest.limiter
        counted: list[int] = []  # when the limiter let each request of the burst go
        acquire = limiter.acquire

        async def acquire_and_note(k: str) -> None:
            await acquire(k)
            counted.append(limiter._get(k).sent[-1])  # the time it counted (its own clock)

        limiter.acquire = acquire_and_note  # type: ignore[method-assign]
        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(rest.get, key, {"category": "linear", "symbol": "BTCUSDT"})
        # Never more than four in a rolling second, by the client's own clock: the twelve
        # took over two seconds. (Whether the venue still refused one depends on how late
        # each reached it on this machine, beyond the limiter's 50 ms of slack; a refusal
        # is waited out and its retry is paced like the rest, so it is counted too.)
        assert len(counted) == 12 + limiter.refusals
        assert all(later - first >= 1000 for first, later in zip(counted, counted[4:], strict=False))


async def test_timeout_on_a_post_is_reported_not_repeated(live: Any) -> None:
    """The client gives up on the answer and says so; it does not send again by itself.
    Whatever the first request became, the same orderLinkId cannot make a second order."""
    body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
            "qty": "0.01", "price": "29000.0", "orderLinkId": "late-1"}
    async with (live.exchange() as server,
                BybitRest(server.base_url, SecretStr(live.api_key), SecretStr(live.api_secret),
                          timeout=0.3) as rest):
        await rest.sync_time()
        before = server.rest.requests
        server.inject("delay", ms=600, seconds=0.5)
        with pytest.raises(BybitTimeout):
            await rest.post("/v5/order/create", body)
        assert server.rest.requests - before == 1
        await server.settled()  # the late create has been handled, whatever it became
        with contextlib.suppress(DuplicateOrderLinkId):  # raised if the first one arrived
            await rest.post("/v5/order/create", body)
        orders = list(server.account(live.api_key).orders.values())
        assert [o.link_id for o in orders] == ["late-1"]


async def test_wrong_secret_against_the_local_exchange(live: Any) -> None:
    async with live.exchange() as server, BybitRest(server.base_url, SecretStr(live.api_key),
                         SecretStr("nope")) as rest:
        with pytest.raises(BybitAuthError) as info:
            await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
    assert info.value.code == 10004 and live.api_key not in str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), ("0", 0), ("1_000", None), (" 12", None), ("\u0661\u0662", None), ("-1", None),
    ("", None), ("1.5", None), ("9" * 21, None), (None, None)])
def test_rate_limit_headers_are_read_strictly(text: Any, expected: int | None) -> None:
    """``int()`` would take "1_000", " 12" and other scripts' digits: a header is digits."""
    from hayate_bybit.rest.limiter import header_int, limit_reset_ms

    assert header_int(text) == expected
    assert limit_reset_ms({"X-Bapi-Limit-Reset-Timestamp": "1700000000000"}) == 1700000000000
    assert limit_reset_ms({"X-Bapi-Limit-Reset-Timestamp": "1_700_000_000_000"}) == 0
