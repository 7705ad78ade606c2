"""Test helpers for code that talks to the local Bybit server (ours and yours).

    async with local_exchange() as server:              # a hand-driven BTCUSDT/ETHUSDT market
        rest = SignedRest(server.base_url, KEY, SECRET)  # signed REST, as Bybit's guide says
        await rest.order(side="Buy", qty="0.1", price="100.0", timeInForce="PostOnly")
        async with ws_clients() as connect:
            private = await connect(server.private_url)
            await private.auth(KEY, SECRET)
            server.push_trade("BTCUSDT", "100.0", "3", "Sell")  # fills the bid
            await private.wait_for(lambda f: f.get("topic") == "execution")
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import anyio
import httpx

from hayate_bybit.auth import rest_headers, ws_auth_args
from hayate_paper.bybit_server.config import ServerConfig, load_config
from hayate_paper.bybit_server.server import BybitServer

__all__ = [
    "KEY",
    "OTHER_KEY",
    "OTHER_SECRET",
    "SECRET",
    "ControlClient",
    "SignedRest",
    "WsClient",
    "local_config",
    "local_exchange",
    "ws_clients",
]

KEY = "test-key"
SECRET = "test-secret-0123456789"
OTHER_KEY = "other-key"
OTHER_SECRET = "other-secret"

BOOK = {"bids": [["100.0", "2"], ["99.9", "3"], ["99.8", "4"]],
        "asks": [["100.1", "1"], ["100.2", "2"], ["100.3", "5"]]}


def local_config(**changes: Any) -> ServerConfig:
    """A hand-driven market: BTCUSDT (linear) and ETHUSDT (spot), two accounts
    (``KEY``/``SECRET`` with 10 000 USDT and 1 ETH, ``OTHER_KEY`` with 100 USDT); any
    top-level table can be replaced through ``changes``."""
    raw: dict[str, Any] = {
        "server": {"port": 0},
        "instruments": [
            {"symbol": "BTCUSDT", "category": "linear", "tick_size": "0.1", "qty_step": "0.001",
             "min_qty": "0.001", "max_qty": "100", "min_notional": "5", **BOOK},
            {"symbol": "ETHUSDT", "category": "spot", "tick_size": "0.01", "qty_step": "0.0001",
             "min_notional": "5",
             "bids": [["2000.00", "1"], ["1999.99", "2"]],
             "asks": [["2000.01", "1"], ["2000.02", "2"]]},
        ],
        "accounts": [
            {"api_key": KEY, "api_secret": SECRET, "balances": {"USDT": "10000", "ETH": "1"}},
            {"api_key": OTHER_KEY, "api_secret": OTHER_SECRET, "balances": {"USDT": "100"}},
        ],
    }
    raw.update(changes)
    return load_config(raw)


@contextlib.asynccontextmanager
async def local_exchange(config: ServerConfig | None = None, **kw: Any) -> AsyncIterator[BybitServer]:
    """A started server (port chosen by the OS) for the length of the block."""
    async with BybitServer(config or local_config(), **kw) as server:
        yield server


class SignedRest:
    """Signed REST calls the way Bybit's guide describes them (raw httpx, no SDK)."""

    def __init__(self, base_url: str, key: str = KEY, secret: str = SECRET) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=10)
        self.key = key
        self.secret = secret

    async def public(self, path: str, query: str = "") -> dict[str, Any]:
        r = await self.client.get(path + ("?" + query if query else ""))
        assert r.status_code == 200, r.text
        return r.json()

    async def get_raw(self, path: str, query: str = "", *, ts: int | None = None,
                      secret: str | None = None, key: str | None = None,
                      recv_window: int = 5000) -> httpx.Response:
        t = ts if ts is not None else int(time.time() * 1000)
        headers = rest_headers(key or self.key, secret or self.secret, t, query, recv_window)
        return await self.client.get(path + ("?" + query if query else ""), headers=headers)

    async def get(self, path: str, query: str = "", **kw: Any) -> dict[str, Any]:
        r = await self.get_raw(path, query, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    async def post_raw(self, path: str, body: dict[str, Any] | str, *, ts: int | None = None,
                       secret: str | None = None, key: str | None = None) -> httpx.Response:
        text = body if isinstance(body, str) else json.dumps(body)
        t = ts if ts is not None else int(time.time() * 1000)
        headers = rest_headers(key or self.key, secret or self.secret, t, text)
        headers["Content-Type"] = "application/json"
        return await self.client.post(path, content=text.encode(), headers=headers)

    async def post(self, path: str, body: dict[str, Any] | str, **kw: Any) -> dict[str, Any]:
        r = await self.post_raw(path, body, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    async def order(self, **fields: Any) -> dict[str, Any]:
        body = {"category": "linear", "symbol": "BTCUSDT", "orderType": "Limit", **fields}
        return await self.post("/v5/order/create", body)

    async def aclose(self) -> None:
        await self.client.aclose()


class ControlClient:
    """The control endpoint as a local operator calls it: JSON bodies, and the server's
    control token when it has one.

        async with ControlClient(server) as control:
            await control.fault("drop", target="public")
            await control.market({"symbol": "BTCUSDT", "trades": [...]})
    """

    def __init__(self, server: BybitServer) -> None:
        headers = {}
        if server.control_token is not None:
            headers["Authorization"] = f"Bearer {server.control_token.get_secret_value()}"
        self.client = httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=10)

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def post(self, path: str, body: Any) -> httpx.Response:
        """``POST /__control/<path>`` with ``body`` as JSON (a str or bytes is sent as is)."""
        content = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        return await self.client.post(f"/__control/{path}", content=content,
                                      headers={"Content-Type": "application/json"})

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(f"/__control/{path}")

    async def fault(self, action: str, **params: Any) -> httpx.Response:
        return await self.post("faults", {"action": action, **params})

    async def market(self, body: dict[str, Any]) -> httpx.Response:
        return await self.post("market", body)

    async def status(self) -> dict[str, Any]:
        r = await self.get("status")
        assert r.status_code == 200, r.text
        return r.json()


class WsClient:
    """A raw WebSocket client that keeps every frame it receives, parsed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[Any] = []
        self.raw: list[str] = []
        self._new = anyio.Event()
        self.closed = False

    async def pump(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.raw.append(msg.data)
                    try:
                        self.frames.append(json.loads(msg.data))
                    except ValueError:
                        self.frames.append(None)
                    self._new.set()
                    self._new = anyio.Event()
        finally:
            self.closed = True
            self._new.set()

    async def send(self, obj: Any) -> None:
        await self.ws.send_str(obj if isinstance(obj, str) else json.dumps(obj))

    async def wait_for(self, pred: Callable[[Any], bool], within: float = 30.0,
                       start: int = 0) -> Any:
        """The first frame from index ``start`` on that satisfies ``pred``."""
        with anyio.fail_after(within):
            i = start
            while True:
                while i < len(self.frames):
                    f = self.frames[i]
                    i += 1
                    if f is not None and pred(f):
                        return f
                if self.closed:
                    raise AssertionError("connection closed while waiting")
                await self._new.wait()

    async def wait_closed(self, within: float = 30.0) -> None:
        with anyio.fail_after(within):
            while not self.closed:
                await self._new.wait()

    async def wait_until(self, check: Callable[[], bool], within: float = 30.0) -> None:
        """Until ``check()`` holds, re-checked as frames arrive (for conditions on several
        frames, or on frames that are not JSON)."""
        with anyio.fail_after(within):
            while not check():
                if self.closed:
                    raise AssertionError("connection closed while waiting")
                await self._new.wait()

    async def auth(self, key: str = KEY, secret: str = SECRET) -> Any:
        args = ws_auth_args(key, secret, int(time.time() * 1000) + 10_000)
        n = len(self.frames)
        await self.send({"req_id": "a1", "op": "auth", "args": args})
        return await self.wait_for(lambda f: f.get("op") == "auth", start=n)


@contextlib.asynccontextmanager
async def ws_clients() -> AsyncIterator[Callable[[str], Any]]:
    """``connect = ...; client = await connect(url)``: :class:`WsClient` s closed at the end."""
    session = aiohttp.ClientSession()
    clients: list[WsClient] = []
    try:
        async with anyio.create_task_group() as tg:
            async def connect(url: str) -> WsClient:
                ws = await session.ws_connect(url, autoping=True)
                c = WsClient(ws)
                clients.append(c)
                tg.start_soon(c.pump)
                return c

            try:
                yield connect
            finally:
                for c in clients:
                    await c.ws.close()
                tg.cancel_scope.cancel()
    finally:
        await session.close()
