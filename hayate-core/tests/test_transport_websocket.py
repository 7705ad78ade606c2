"""ReconnectingWebSocket against tiny servers on 127.0.0.1: reconnect, watchdog, heartbeat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from websockets.asyncio.server import ServerConnection, serve

from hayate.clock import WallClock
from hayate.transport import Backoff, NotConnected, ReconnectingWebSocket
from hayate_testing import StepClock, wait_until

pytestmark = pytest.mark.anyio


class Recorder:
    """A handler that records what the client reports."""

    def __init__(self, on_connect: Callable[[ReconnectingWebSocket], Awaitable[None]] | None
                 = None) -> None:
        self.connects = 0
        self.messages: list[tuple[str | bytes, int]] = []
        self.disconnects: list[str] = []
        self._connect = on_connect
        self.changed = anyio.Event()

    def _poke(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    async def on_connect(self, ws: ReconnectingWebSocket) -> None:
        self.connects += 1
        if self._connect is not None:
            await self._connect(ws)
        self._poke()

    async def on_message(self, message: str | bytes, recv_ns: int) -> None:
        self.messages.append((message, recv_ns))
        self._poke()

    async def on_disconnect(self, reason: str) -> None:
        self.disconnects.append(reason)
        self._poke()

    async def until(self, predicate: Callable[[], bool], within: float = 30.0) -> None:
        with anyio.fail_after(within):
            while not predicate():
                await self.changed.wait()


async def start(handler: Callable[[ServerConnection], Awaitable[None]], port: int = 0) -> Any:
    server = await serve(handler, "127.0.0.1", port, close_timeout=0.5)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def stop(server: Any) -> None:
    server.close()
    await server.wait_closed()


def client(url: str, **kw: Any) -> ReconnectingWebSocket:
    kw.setdefault("backoff", Backoff(0.01, 0.02, seed=1))
    kw.setdefault("clock", WallClock())
    return ReconnectingWebSocket(url, **kw)


async def watchdog_looks(c: ReconnectingWebSocket, n: int = 2) -> None:
    """Until the silence watchdog has looked ``n`` more times (it ticks on its own)."""
    seen = c.silence_checks
    await wait_until(lambda: c.silence_checks >= seen + n, what="the silence watchdog")


async def test_messages_heartbeat_and_reconnect_after_close() -> None:
    received: list[str] = []
    sessions = 0

    async def server_side(ws: ServerConnection) -> None:
        nonlocal sessions
        sessions += 1
        async for msg in ws:
            received.append(str(msg))
            if msg == "ping":
                await ws.send("pong")
            if msg == "subscribe":
                await ws.send(f"hello {sessions}")
                if sessions == 1:
                    await ws.close()  # first session: the venue hangs up

    server, url = await start(server_side)
    rec = Recorder(lambda ws: ws.send("subscribe"))
    c = client(url, heartbeat=lambda: "ping", ping_interval=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(c.run, rec)
        await rec.until(lambda: len(rec.messages) == 2)
        await rec.until(lambda: received.count("ping") >= 2)
        tg.cancel_scope.cancel()
    await stop(server)
    assert [m for m, _ in rec.messages if m != "pong"] == ["hello 1", "hello 2"]
    assert rec.connects == 2 and c.connects == 2 and c.disconnects == 1
    assert rec.disconnects == ["closed with code 1000"]
    assert received.count("subscribe") == 2  # subscribed again on the new connection
    assert all(t > 1_600_000_000 * 10**9 for _, t in rec.messages)  # clock time in ns


async def test_silent_server_is_dropped_and_reconnected() -> None:
    async def server_side(ws: ServerConnection) -> None:
        await ws.send("only this")
        await ws.wait_closed()  # then silence, with the socket open

    server, url = await start(server_side)
    rec = Recorder()
    c = client(url, silence_timeout=0.2)
    async with anyio.create_task_group() as tg:
        tg.start_soon(c.run, rec)
        await rec.until(lambda: rec.connects >= 2)
        tg.cancel_scope.cancel()
    await stop(server)
    assert rec.disconnects[0] == "no message for 0.2s"


async def test_a_slow_handler_is_not_silence() -> None:
    async def server_side(ws: ServerConnection) -> None:
        for i in range(3):
            await ws.send(str(i))
        await ws.wait_closed()

    server, url = await start(server_side)
    clock = StepClock()  # time passes only where this test says so
    c = client(url, silence_timeout=0.2, clock=clock)

    class Slow(Recorder):
        async def on_message(self, message: str | bytes, recv_ns: int) -> None:
            clock.advance(0.3)  # each message takes longer than the silence timeout to handle
            await watchdog_looks(c)  # and the watchdog looks while it is being handled
            await super().on_message(message, recv_ns)

    rec = Slow()
    async with anyio.create_task_group() as tg:
        tg.start_soon(c.run, rec)
        await rec.until(lambda: len(rec.messages) == 3)
        await watchdog_looks(c)  # after the last one too: handling time is not silence
        tg.cancel_scope.cancel()
    await stop(server)
    assert rec.connects == 1 and rec.disconnects == [] and c.disconnects == 0


async def test_unreachable_server_backs_off_then_connects(free_tcp_port: int) -> None:
    rec = Recorder()
    c = client(f"ws://127.0.0.1:{free_tcp_port}", backoff=Backoff(0.02, 0.05, seed=3))
    async with anyio.create_task_group() as tg:
        tg.start_soon(c.run, rec)
        await wait_until(lambda: c.backoff.attempt >= 3, what="three refused attempts")
        assert rec.connects == 0
        assert "Connect" in c.last_reason  # ConnectionRefusedError: ... Connect call failed

        async def quiet(ws: ServerConnection) -> None:
            await ws.send("up")
            await ws.wait_closed()

        server, _ = await start(quiet, free_tcp_port)
        await rec.until(lambda: bool(rec.messages))
        tg.cancel_scope.cancel()
    await stop(server)
    assert rec.disconnects == []  # failed attempts were never connections


async def test_backoff_resets_after_a_stable_connection() -> None:
    clock = StepClock()

    async def server_side(ws: ServerConnection) -> None:
        await ws.send("x")
        clock.advance(0.15)  # each connection lives 0.15 s (on the client's clock)...

    server, url = await start(server_side)
    rec = Recorder()
    c = client(url, backoff=Backoff(0.01, 1.0, seed=2), stable_after=0.1, clock=clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(c.run, rec)
        await rec.until(lambda: rec.connects >= 4)
        tg.cancel_scope.cancel()
    await stop(server)
    assert c.backoff.attempt <= 1  # ...past stable_after: the backoff started over each time


async def test_handler_errors_propagate_unwrapped() -> None:
    async def server_side(ws: ServerConnection) -> None:
        await ws.send("boom")
        await ws.wait_closed()

    class Broken(Recorder):
        async def on_message(self, message: str | bytes, recv_ns: int) -> None:
            raise ValueError(f"cannot handle {message!r}")

    server, url = await start(server_side)
    with pytest.raises(ValueError, match="cannot handle 'boom'"):
        await client(url).run(Broken())
    await stop(server)


async def test_send_between_connections_raises() -> None:
    c = client("ws://127.0.0.1:9")
    assert not c.connected
    with pytest.raises(NotConnected):
        await c.send("x")


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        ReconnectingWebSocket("ws://127.0.0.1:1", ping_interval=0)
