"""Clients too slow to send or to read are disconnected, and everyone else is served.

The servers here have short timeouts (a fraction of a second) so that the tests end
quickly; nothing asserts how long anything took: each test waits (with a generous overall
limit) for the server to close the slow client, then checks that another client is served.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import local_config, local_exchange

pytestmark = pytest.mark.anyio

CLIENTS = "hayate_paper.bybit_server.clients"


def quick(**server: Any) -> Any:
    return local_config(server={"port": 0, **server})


async def _first_reply(raw_http: Any, server: BybitServer, request: bytes) -> tuple[int, bytes]:
    """``request`` on a new connection, and its reply. With deadlines this short a loaded
    machine may close a connection before its request arrives: then try again."""
    with anyio.fail_after(30):
        while True:
            conn = await raw_http(server)
            await conn.send(request)
            try:
                status, _, body = await conn.response()
            except AssertionError:  # closed before a reply: the headers deadline won
                continue
            return status, body


async def test_a_client_that_sends_nothing_is_closed(raw_http: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO):
        async with local_exchange(quick(request_timeout=0.2)) as server:
            idle = await raw_http(server)
            assert await idle.closed_by_server()
            status, _ = await _first_reply(  # another client is served
                raw_http, server, b"GET /v5/market/time HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert status == 200
    assert any("no complete request within 0.2 s" in r.getMessage()
               for r in caplog.records if r.name == CLIENTS)


async def test_headers_sent_a_byte_at_a_time_do_not_hold_the_connection(raw_http: Any) -> None:
    async with local_exchange(quick(request_timeout=0.3)) as server:
        slow = await raw_http(server)
        request = b"GET /v5/market/time HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 5000
        closed = anyio.Event()

        async def trickle() -> None:
            for byte in request:  # never finishes the headers in time
                if closed.is_set():
                    return
                try:
                    await slow.send(bytes([byte]))
                except (anyio.BrokenResourceError, ConnectionError):
                    return
                with anyio.move_on_after(0.01):  # the pace of a slow client
                    await closed.wait()

        async with anyio.create_task_group() as tg:
            tg.start_soon(trickle)
            assert await slow.closed_by_server()
            closed.set()
        assert server._deadlines is not None and server._deadlines.closed_slow == 1


async def test_a_body_that_never_arrives_is_refused(raw_http: Any) -> None:
    async with local_exchange(quick(request_timeout=0.2)) as server:
        status, body = await _first_reply(raw_http, server, (
            b"POST /v5/order/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"cat"))
        assert status == 200 and json.loads(body)["retMsg"] == (
            "params error: the request body did not arrive within 0.2 s")


async def test_an_idle_keepalive_connection_is_closed(raw_http: Any) -> None:
    async with local_exchange(quick(keepalive_timeout=0.2)) as server:
        conn = await raw_http(server)
        assert (await conn.request("GET", "/v5/market/time"))[0] == 200
        assert await conn.closed_by_server()


# -- a WebSocket client that stops reading ------------------------------------------------------
async def _ws_that_never_reads(server: BybitServer) -> socket.socket:
    """A public socket subscribed to publicTrade.BTCUSDT whose client then reads nothing
    (a small receive buffer, so the server's writes back up quickly)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        "GET /v5/public/linear HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101")
    payload = json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    await loop.sock_sendall(sock, bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    return sock


async def _flood_until_dropped(server: BybitServer, paced: bool) -> None:
    """Public trades for the client until the server drops it. ``paced``: a new frame only
    once the previous ones left the queue (so that only the write timeout can trip)."""
    market = server.market
    assert market is not None
    batch = [market.trade_event("BTCUSDT", "100.0", "1", "Sell")] * 200  # a ~30 KB frame
    with anyio.fail_after(60):
        while True:
            if not server.conns:  # dropped, and its handler has finished
                return
            ready = [c for c in server.conns if "publicTrade.BTCUSDT" in c.topics]
            if ready and not ready[0].closed_as_slow and not (paced and ready[0].pending_bytes):
                server.push(batch)
                await anyio.lowlevel.checkpoint()
            else:
                await anyio.sleep(0.01)


@pytest.mark.parametrize("limit", ["write_timeout", "max_pending_bytes"])
async def test_a_websocket_client_that_stops_reading_is_dropped(ws_connect: Any, caplog: Any,
                                                                limit: str) -> None:
    settings = ({"write_timeout": 0.2} if limit == "write_timeout"
                else {"write_timeout": 600, "max_pending_bytes": 1 << 20})
    with caplog.at_level(logging.INFO):
        async with local_exchange(quick(**settings)) as server:
            sock = await _ws_that_never_reads(server)
            try:
                await _flood_until_dropped(server, paced=limit == "write_timeout")
            finally:
                sock.close()
            reader = await ws_connect(server.public_url("linear"))  # others are still served
            await reader.send({"op": "ping", "req_id": "p"})
            await reader.wait_for(lambda f: f.get("req_id") == "p")
    why = "took over 0.2 s to go out" if limit == "write_timeout" else "over 1048576 bytes waiting"
    assert any("does not keep up, disconnected" in r.getMessage() and why in r.getMessage()
               for r in caplog.records if r.name == CLIENTS and r.levelno == logging.WARNING)


async def test_a_client_that_leaves_mid_body_is_noted_without_a_traceback(
        raw_http: Any, caplog: Any, assert_no_tracebacks: Any) -> None:
    """A client (a bot being stopped) closes its connection while its POST body is still
    on its way: one line, no traceback, and everyone else is served."""
    with caplog.at_level(logging.INFO):
        async with local_exchange(quick(request_timeout=5.0)) as server:
            before = server.rest.errors.counts["rest"]
            gone = await raw_http(server)
            await gone.send(b"POST /v5/order/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 80\r\n\r\n{\"ca")
            await gone.aclose()
            with anyio.fail_after(30):
                while server.rest.errors.counts["rest"] == before:  # noqa: ASYNC110 - server state
                    await anyio.sleep(0.01)
            status, _ = await _first_reply(
                raw_http, server, b"GET /v5/market/time HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert status == 200
    assert_no_tracebacks(caplog)
