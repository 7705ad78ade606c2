"""Fixtures for the local Bybit server's tests: a hand-driven market, signed requests,
and the real Bybit samples to compare shapes with."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.abc
import pytest

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.config import ServerConfig
from hayate_paper.bybit_server.testing import SignedRest, local_config, ws_clients


@pytest.fixture(scope="session")
def sample() -> Callable[[str], Any]:
    """``sample("rest_order_realtime.json")``: one real Bybit message."""
    from hayate_bybit.testing.samples import sample as load

    return load


@pytest.fixture(autouse=True)
def _no_ambient_control_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A HAYATE_CONTROL_TOKEN in the developer's shell must not change what tests see."""
    monkeypatch.delenv("HAYATE_CONTROL_TOKEN", raising=False)


@pytest.fixture
def config() -> ServerConfig:
    return local_config()


@pytest.fixture
async def server(config: ServerConfig) -> AsyncIterator[BybitServer]:
    async with BybitServer(config) as s:
        yield s


@pytest.fixture
async def rest(server: BybitServer) -> AsyncIterator[SignedRest]:
    r = SignedRest(server.base_url)
    yield r
    await r.aclose()


@pytest.fixture
async def ws_connect() -> AsyncIterator[Callable[[str], Any]]:
    """``await ws_connect(url)`` -> a WsClient (closed at the end of the test)."""
    async with ws_clients() as connect:
        yield connect


class RawHttp:
    """One TCP connection speaking HTTP/1.1 by hand: the exact bytes a client sends, and
    several requests on the same connection (to show it is still usable after an error)."""

    def __init__(self, stream: anyio.abc.ByteStream, host: str) -> None:
        self.stream = stream
        self.host = host
        self.buffer = b""

    async def send(self, data: bytes) -> None:
        await self.stream.send(data)

    async def request(self, method: str, target: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        h = {"Host": self.host, **(headers or {})}
        if body or method == "POST":
            h.setdefault("Content-Length", str(len(body)))
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        await self.stream.send(head.encode("latin-1") + b"\r\n" + body)
        return await self.response()

    async def _fill(self) -> bool:
        try:
            chunk = await self.stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
            return False
        self.buffer += chunk
        return True

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        with anyio.fail_after(10):
            while b"\r\n\r\n" not in self.buffer:
                if not await self._fill():
                    raise AssertionError("connection closed before a reply")
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:])}
            length = int(headers.get("content-length", "0"))
            while len(self.buffer) < length:
                if not await self._fill():
                    raise AssertionError("connection closed in a reply")
            body, self.buffer = self.buffer[:length], self.buffer[length:]
            return status, headers, body

    async def closed_by_server(self, within: float = 20.0) -> bool:
        """Wait until the server closes the connection (True), reading what it sends."""
        with anyio.fail_after(within):
            while await self._fill():
                pass
        return True

    async def aclose(self) -> None:
        await self.stream.aclose()


@pytest.fixture
async def raw_http() -> AsyncIterator[Callable[[BybitServer], Any]]:
    """``conn = await raw_http(server)``: a :class:`RawHttp` to the server (closed after)."""
    opened: list[RawHttp] = []

    async def connect(server: BybitServer) -> RawHttp:
        stream = await anyio.connect_tcp("127.0.0.1", server.port)
        conn = RawHttp(stream, f"127.0.0.1:{server.port}")
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        with contextlib.suppress(Exception):
            await conn.aclose()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing logged with a traceback, nothing at ERROR."""
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]
    assert "Traceback" not in caplog.text


@pytest.fixture
def assert_no_tracebacks() -> Callable[[pytest.LogCaptureFixture], None]:
    return no_tracebacks
