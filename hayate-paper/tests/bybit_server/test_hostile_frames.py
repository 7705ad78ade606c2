"""Mutated real requests thrown at every socket and every REST route of one running server.

The frames start from Bybit's own request samples (made current: a fresh timestamp, a
symbol the server lists) and are then mutated at the JSON level (a value replaced by any
JSON, keys dropped or added, nesting) and at the byte level (truncated, bytes inserted or
flipped, sent as text that is not UTF-8 or as a binary frame). Whatever arrives:

- REST never answers 500 (a Bybit envelope with HTTP 200, or 404 for an unknown path);
  the control endpoint answers JSON with a 2xx or 4xx;
- a socket answers every frame and stays open: a probe sent after each frame is answered;
- nothing is logged with a traceback or at ERROR.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hayate_bybit.auth import rest_headers
from hayate_bybit.testing.samples import sample
from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import KEY, SECRET, ControlClient, WsClient, local_config

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])

# -- what to mutate --------------------------------------------------------------------------------
MAX_LINE = 8190 - len("GET  HTTP/1.1")  # aiohttp's request line limit


def _now() -> str:
    return str(int(time.time() * 1000))


def _current(frame: dict[str, Any]) -> dict[str, Any]:
    """A real sample made current: a fresh timestamp and a symbol this server lists."""
    text = json.dumps(frame)
    for old in ("ETHUSDT", "SOLUSDT", "ETHUSD"):
        text = text.replace(f'"{old}"', '"BTCUSDT"').replace(f".{old}", ".BTCUSDT")
    out = json.loads(text)
    if isinstance(out.get("header"), dict):
        out["header"]["X-BAPI-TIMESTAMP"] = _now()
        out["header"]["X-BAPI-RECV-WINDOW"] = "10000"
    return out


PUBLIC = ["ws_subscribe_request.json", "ws_unsubscribe_request.json", "ws_ping_request.json"]
PRIVATE = ["ws_private_subscribe_order_request.json", "ws_auth_request.json",
           "ws_ping_request.json", "ws_unsubscribe_request.json"]
TRADE = ["ws_trade_order_create_request.json", "ws_trade_order_create_batch_request.json",
         "ws_trade_auth_request.json", "ws_trade_ping_request.json"]

CREATE = sample("ws_trade_order_create_request.json")["args"][0]
BATCH = sample("ws_trade_order_create_batch_request.json")["args"][0]
POST_BODIES: dict[str, dict[str, Any]] = {
    "/v5/order/create": CREATE,
    "/v5/order/amend": {k: CREATE[k] for k in ("category", "symbol", "qty", "price")}
    | {"orderLinkId": "batch-001"},
    "/v5/order/cancel": {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "batch-001"},
    "/v5/order/cancel-all": {"category": "linear", "symbol": "BTCUSDT"},
    "/v5/order/create-batch": BATCH,
    "/v5/order/amend-batch": {"category": "linear", "request": [
        {k: v for k, v in item.items() if k in ("symbol", "qty", "price", "orderLinkId")}
        for item in BATCH["request"]]},
    "/v5/order/cancel-batch": {"category": "linear", "request": [
        {"symbol": i["symbol"], "orderLinkId": i["orderLinkId"]} for i in BATCH["request"]]},
}
GET_QUERIES: dict[str, dict[str, str]] = {
    "/v5/market/time": {},
    "/v5/market/instruments-info": {"category": "linear", "symbol": "BTCUSDT", "limit": "5"},
    "/v5/market/orderbook": {"category": "linear", "symbol": "BTCUSDT", "limit": "50"},
    "/v5/market/tickers": {"category": "spot", "symbol": "ETHUSDT"},
    "/v5/market/recent-trade": {"category": "linear", "symbol": "BTCUSDT", "limit": "10"},
    "/v5/order/realtime": {"category": "linear", "symbol": "BTCUSDT", "openOnly": "0"},
    "/v5/order/history": {"category": "linear", "limit": "20", "cursor": "0"},
    "/v5/execution/list": {"category": "linear", "startTime": "0", "endTime": "9999999999999"},
    "/v5/position/list": {"category": "linear", "symbol": "BTCUSDT"},
    "/v5/account/wallet-balance": {"accountType": "UNIFIED", "coin": "USDT,ETH"},
    "/v5/account/fee-rate": {"category": "linear", "symbol": "BTCUSDT"},
    "/v5/asset/coin/query-info": {"coin": "USDT"},
}
CONTROL_BODIES: dict[str, dict[str, Any]] = {
    "market": {"symbol": "BTCUSDT", "delta": {"bids": [["100.0", "3"]], "asks": [["100.1", "0"]]},
               "trades": [{"price": "100.0", "qty": "1", "side": "Sell"}]},
    "faults": {"action": "skip_sequence", "topic": "orderbook.50.BTCUSDT"},
}

# -- how to mutate ---------------------------------------------------------------------------------
ODD_NUMBER_VALUES: list[Any] = [
    0, -1, 10**18, -(10**300), 2**63, 1e300, -1e-300, 0.1, "0", "-0", "-1", "1e300", "1E-999",
    "1e18", "99999999999999999999", "0.00000000001", "NaN", "Infinity", "-inf", "0x10", "١٢",
    "1_000", "9" * 5000, " 1 ", "1.0.0"]
ODD_VALUES: list[Any] = [*ODD_NUMBER_VALUES,
    None, True, False, "", " ", "\x00", "\ud7ff\ue000", "x" * 10_000, "orderbook.1.BTCUSDT",
    "publicTrade.", "order.create", "linear", "spot", "inverse", "option", "Buy", "Sell",
    "Market", "Limit", "PostOnly", "IOC", "BTCUSDT", "ETHUSDT", "baseCoin", "quoteCoin"]
ODD_SCALARS = st.sampled_from(ODD_NUMBER_VALUES) | st.sampled_from(ODD_VALUES)
JSON = st.recursive(
    ODD_SCALARS | st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new
    return root


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        root = root[step]
    return root


def _leaves(value: Any) -> list[tuple[Any, ...]]:
    return [p for p in _paths(value) if p and not isinstance(_get(value, p), dict | list)]


@st.composite
def mutated_json(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    value: Any = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["odd"] * 4 + ["replace", "drop", "add", "wrap", "nest"]))
        leaves = _leaves(value)
        candidates = leaves if kind == "odd" and leaves else _paths(value)
        # By depth first, so that top-level fields (op, args, category...) are hit often.
        depth = draw(st.sampled_from(sorted({len(c) for c in candidates})))
        path = draw(st.sampled_from([c for c in candidates if len(c) == depth]))
        target = _get(value, path)
        if kind == "odd":  # the most productive mutation: a strange value where one is expected
            value = _set(value, path, draw(ODD_SCALARS))
        elif kind == "replace":
            value = _set(value, path, draw(JSON))
        elif kind == "drop" and path:
            parent = _get(value, path[:-1])
            del parent[path[-1]]
        elif kind == "add" and isinstance(target, dict):
            target[draw(st.sampled_from(["op", "args", "req_id", "reqId", "header", "category",
                                         "symbol", "qty", "price", "request", "x"]))] = draw(JSON)
        elif kind == "add" and isinstance(target, list):
            target.append(draw(JSON))
        elif kind == "wrap":
            value = _set(value, path, draw(st.sampled_from([[target], {"x": target}])))
        elif kind == "nest":
            for _ in range(draw(st.integers(1, 40))):
                value = _set(value, path, [_get(value, path)])
    return value


@st.composite
def mutated_bytes(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    data = bytearray(json.dumps(draw(mutated_json(base)) if draw(st.booleans()) else base).encode())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "insert", "flip", "repeat"]))
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "repeat":
            data[at:at] = data[max(0, at - 20):at] * draw(st.integers(1, 50))
    return bytes(data)


def frames(samples: list[str]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(how to send, payload): ``text`` (valid UTF-8), ``raw`` (a text frame, any bytes)
    or ``binary``."""
    bases = [_current(sample(name)) for name in samples]
    return st.sampled_from(bases).flatmap(lambda base: st.one_of(
        mutated_json(base).map(lambda v: ("text", json.dumps(v).encode())),
        mutated_bytes(base).map(lambda b: ("raw", b)),
        mutated_bytes(base).map(lambda b: ("binary", b))))


# -- the server, on its own event loop --------------------------------------------------------------
class LiveServer:
    """A server and its clients on an event loop in a thread; each hypothesis example is a
    plain call (``live.run(coroutine)``), so that a failing example shrinks cleanly."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-server",
                                       daemon=True)
        self.thread.start()
        # Limits out of the way: every request must reach the code behind them.
        unlimited = {path: 1_000_000 for path in [*POST_BODIES, *GET_QUERIES]
                     if not path.startswith("/v5/market/")}
        self.server = BybitServer(local_config(rate_limits=unlimited))
        self.sockets: dict[str, WsClient] = {}
        self._session: aiohttp.ClientSession | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self.http: httpx.AsyncClient | None = None
        self.control: ControlClient | None = None

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self, url: str) -> WsClient:
        assert self._session is not None
        client = WsClient(await self._session.ws_connect(url, autoping=True))
        self._pumps.append(asyncio.get_running_loop().create_task(client.pump()))
        return client

    async def start(self, sockets: bool) -> None:
        await self.server.start()
        self.http = httpx.AsyncClient(base_url=self.server.base_url, timeout=30)
        self.control = ControlClient(self.server)
        if not sockets:
            return
        self._session = aiohttp.ClientSession()
        s = self.server
        self.sockets = {"public": await self._connect(s.public_url("linear")),
                        "spot": await self._connect(s.public_url("spot")),
                        "private": await self._connect(s.private_url),
                        "trade": await self._connect(s.trade_url)}
        assert (await self.sockets["private"].auth())["success"] is True
        assert (await self.sockets["trade"].auth())["retCode"] == 0

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.control is not None:
            await self.control.client.aclose()
        for ws in self.sockets.values():
            await ws.ws.close()
        for task in self._pumps:
            task.cancel()
        if self._session is not None:
            await self._session.close()
        await self.server.stop()

    def close(self) -> None:
        try:
            self.run(self.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def _live(sockets: bool) -> Iterator[LiveServer]:
    live = LiveServer()
    try:
        live.run(live.start(sockets))
        yield live
    finally:
        live.close()


@pytest.fixture
def live() -> Iterator[LiveServer]:
    yield from _live(sockets=False)


@pytest.fixture
def live_sockets() -> Iterator[LiveServer]:
    yield from _live(sockets=True)


# -- the checks ------------------------------------------------------------------------------------
def _no_tracebacks_since(caplog: Any, start: int) -> None:
    bad = [r for r in caplog.records[start:] if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]


async def _answered_and_open(ws: WsClient, how: str, payload: bytes, probe: dict[str, Any],
                             is_probe_reply: Callable[[Any], bool]) -> None:
    n = len(ws.frames)
    if how == "binary":
        await ws.ws.send_bytes(payload)
    else:
        await ws.ws.send_frame(payload, aiohttp.WSMsgType.TEXT)
    await ws.send(probe)
    reply = await ws.wait_for(is_probe_reply, start=n, within=10)
    assert ws.frames.index(reply, n) > n, "the frame got no answer"
    assert not ws.closed


_probes = itertools.count()


@pytest.mark.parametrize("kind", ["public", "spot", "private", "trade"])
@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_sockets_answer_any_frame_and_stay_open(live_sockets: LiveServer, caplog: Any,
                                                kind: str, data: st.DataObject) -> None:
    how, payload = data.draw(frames(SOCKET_SAMPLES[kind]))
    ws = live_sockets.sockets[kind]
    tag = f"probe-{next(_probes)}"
    start = len(caplog.records)
    with caplog.at_level(logging.INFO):
        probe, answered = _probe(kind, tag)
        live_sockets.run(_answered_and_open(ws, how, payload, probe, answered))
    _no_tracebacks_since(caplog, start)
    assert len(live_sockets.server.conns) == 4


SOCKET_SAMPLES = {"public": PUBLIC, "spot": PUBLIC, "private": PRIVATE, "trade": TRADE}


def _probe(kind: str, tag: str) -> tuple[dict[str, Any], Callable[[Any], bool]]:
    """A request whose answer echoes ``tag`` (pongs do not on spot and the trade socket)."""
    if kind == "trade":
        return {"op": "auth", "reqId": tag}, lambda f: f.get("reqId") == tag
    return {"op": "unsubscribe", "args": [], "req_id": tag}, lambda f: f.get("req_id") == tag


@pytest.mark.slow
def test_every_odd_value_in_every_field_of_every_frame(live_sockets: LiveServer,
                                                       caplog: Any) -> None:
    """The systematic companion of the socket fuzz: each odd value in each field of each
    real request, on each socket; every frame answered, every socket still open."""
    start = len(caplog.records)

    async def sweep() -> None:
        for kind, names in SOCKET_SAMPLES.items():
            ws = live_sockets.sockets[kind]
            for name in names:
                base = _current(sample(name))
                containers = [(k,) for k, v in base.items() if isinstance(v, dict | list)]
                for path in [*_leaves(base), *containers, ("extra",)]:
                    for value in [*ODD_VALUES, [], {}, [1], {"a": 1}]:
                        sent = _set(json.loads(json.dumps(base)), path, value)
                        probe, answered = _probe(kind, f"sweep-{next(_probes)}")
                        await _answered_and_open(ws, "text", json.dumps(sent).encode(), probe,
                                                 answered)

    with caplog.at_level(logging.INFO):
        live_sockets.run(sweep(), timeout=300)
    _no_tracebacks_since(caplog, start)
    assert len(live_sockets.server.conns) == 4


def _post(live: LiveServer, route: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    assert live.http is not None
    return live.run(live.http.post(route, content=body, headers=headers))


@pytest.mark.parametrize("route", sorted(POST_BODIES))
@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_rest_post_routes_never_fail(live: LiveServer, caplog: Any, route: str,
                                     data: st.DataObject) -> None:
    base = _current(POST_BODIES[route])
    how = data.draw(st.sampled_from(["json", "bytes"]))
    body = (json.dumps(data.draw(mutated_json(base))).encode() if how == "json"
            else data.draw(mutated_bytes(base)))
    start = len(caplog.records)
    with caplog.at_level(logging.INFO):
        headers = {**rest_headers(KEY, SECRET, int(time.time() * 1000), body),
                   "Content-Type": "application/json"}
        r = _post(live, route, body, headers)
    assert r.status_code == 200, r.text
    reply = r.json()
    assert isinstance(reply["retCode"], int) and isinstance(reply["retMsg"], str)
    _no_tracebacks_since(caplog, start)


@pytest.mark.slow
def test_every_odd_value_in_every_field_of_every_order_request(live: LiveServer,
                                                               caplog: Any) -> None:
    """The systematic companion of the fuzz above: each odd value in each field of each
    real order request (REST), so that no combination is left to chance."""
    start = len(caplog.records)
    failures = []
    with caplog.at_level(logging.INFO):
        for route, body in POST_BODIES.items():
            base = _current(body)
            for path in [*_leaves(base), ("extra",)]:
                for value in [*ODD_VALUES, [], {}, [1], {"a": 1}]:
                    sent = _set(json.loads(json.dumps(base)), path, value)
                    data = json.dumps(sent).encode()
                    headers = {**rest_headers(KEY, SECRET, int(time.time() * 1000), data),
                               "Content-Type": "application/json"}
                    r = _post(live, route, data, headers)
                    if r.status_code != 200 or r.json().get("retCode") == 10016:
                        failures.append((route, path, value if len(repr(value)) < 40 else "...",
                                         r.status_code, r.text[:80]))
    assert not failures, failures[:10]
    _no_tracebacks_since(caplog, start)


QUERY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=20) | ODD_SCALARS.map(str)


@FUZZ
@given(route=st.sampled_from(sorted(GET_QUERIES)), data=st.data())
def test_rest_get_routes_never_fail(live: LiveServer, caplog: Any, route: str,
                                    data: st.DataObject) -> None:
    params = dict(GET_QUERIES[route])
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from([*params, "limit", "cursor", "symbol", "category", "x"]))
        if data.draw(st.booleans()):
            params[key] = data.draw(QUERY_TEXT)
        else:
            params.pop(key, None)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    if data.draw(st.booleans()):
        query += data.draw(st.sampled_from(["&", "=", "%", "%zz", "&&=&", "%ff%fe", "a=1=2"]))
    start = len(caplog.records)
    with caplog.at_level(logging.INFO):
        headers = rest_headers(KEY, SECRET, int(time.time() * 1000), query)

        assert live.http is not None
        target = f"{route}?{query}" if query else route
        r = live.run(live.http.get(target, headers=headers))
    if len(target) > MAX_LINE:  # refused by the HTTP layer before any handler
        assert r.status_code == 400, r.text
    else:
        assert r.status_code == 200, r.text
        assert isinstance(r.json()["retCode"], int)
    _no_tracebacks_since(caplog, start)


@pytest.mark.parametrize("price", [1e300, 10**60, "9" * 60, "1e5", "-100.0", 0, True, None])
def test_a_hand_fed_number_no_venue_could_send_is_refused(live: LiveServer, price: Any) -> None:
    """The control endpoint reads prices and sizes as strictly as a venue frame: a value
    past 48 characters, with an exponent or the wrong sign is a 400 and the book does not
    move (a price past 64 bits once reached the venue's book and, through a bug of the
    compiled path, crashed the server)."""
    assert live.server.market is not None
    book = live.server.market.symbols["BTCUSDT"].book
    before = (dict(book.bids), dict(book.asks))
    for body in ({"symbol": "BTCUSDT", "delta": {"bids": [[price, "3"]], "asks": []}},
                 {"symbol": "BTCUSDT", "delta": {"bids": [["100.0", price]], "asks": []}},
                 {"symbol": "BTCUSDT", "trades": [{"price": price, "qty": "1", "side": "Sell"}]}):
        if body.get("delta") and body["delta"]["bids"][0][1] == 0:
            continue  # a size of 0 deletes a level: a valid book size
        assert live.control is not None
        r = live.run(live.control.post("market", json.dumps(body).encode()))
        assert r.status_code == 400, (body, r.text)
    assert (dict(book.bids), dict(book.asks)) == before


@FUZZ
@given(route=st.sampled_from(sorted(CONTROL_BODIES)), data=st.data())
def test_control_routes_never_fail(live: LiveServer, caplog: Any, route: str,
                                   data: st.DataObject) -> None:
    base = CONTROL_BODIES[route]
    how = data.draw(st.sampled_from(["json", "bytes"]))
    body = (json.dumps(data.draw(mutated_json(base))).encode() if how == "json"
            else data.draw(mutated_bytes(base)))
    start = len(caplog.records)

    async def post() -> httpx.Response:
        assert live.control is not None
        r = await live.control.post(route, body)
        live.server.inject("clear")  # a fault the mutation injected must not leak into the next
        return r

    with caplog.at_level(logging.INFO):
        r = live.run(post())
    assert r.status_code in (200, 400, 413), r.text
    assert isinstance(r.json()["ok"], bool)
    _no_tracebacks_since(caplog, start)

