"""One client WebSocket: a bounded outbox, its subscriptions and its fault switches.

Pushes never wait on a slow client: they go into a bounded queue that a writer task
drains. A client that lets ``max_pending`` frames (or ``max_pending_bytes``) pile up is
cut off, as Bybit does, and so is one whose frame takes over ``write_timeout`` seconds to
go out (it stopped reading: the socket's buffers are full). Faults act here: a *silent*
connection stays open but sends nothing (no data, no pongs); ``abort`` cuts the TCP
connection without a close frame (a network failure); replies to requests can be delayed.

Every frame the client sends, text or binary, reaches the hub's handler, which answers
even a frame it cannot read (see :mod:`.client_requests`); nothing a client sends closes
its socket, except a frame over 1 MiB (closed with code 1009 before it is read).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from hayate_paper.bybit_server.client_errors import ClientErrors
from hayate_paper.bybit_server.wire import encode

__all__ = ["MAX_FRAME_BYTES", "Connection", "RequestHandler", "SocketSettings", "websocket_response"]

_numbers = itertools.count(1)
_SUBSCRIBE = '"subscribe"'  # in a subscribe request (not in "unsubscribe")
_SUBSCRIBE_BYTES = _SUBSCRIBE.encode()

MAX_FRAME_BYTES = 1 << 20
"""A frame larger than this is not read: the socket is closed with code 1009."""


RequestHandler = Callable[[Any, "str | bytes", bool], None]
"""``handle(connection, data, binary)``: one frame the client sent."""


@dataclass(frozen=True, slots=True)
class SocketSettings:
    """What every client socket of a server shares: its limits and its error log."""

    errors: ClientErrors
    max_pending: int = 10_000
    max_pending_bytes: int = 8 << 20
    write_timeout: float = 10.0


def websocket_response() -> web.WebSocketResponse:
    """The server side of a client WebSocket, with the limits above. Text frames arrive as
    bytes (aiohttp >= 3.14), so that one that is not UTF-8 gets an error reply instead of
    closing the socket (code 1007, which RFC 6455 asks for but which would cost the client
    its subscriptions for one bad frame)."""
    return web.WebSocketResponse(autoping=True, max_msg_size=MAX_FRAME_BYTES, decode_text=False)


class Connection:
    """A client socket of kind ``public``, ``private`` or ``trade``."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, kind: str,
                 settings: SocketSettings, category: str = "") -> None:
        self.ws = ws
        self.settings = settings
        self.errors = settings.errors
        self.transport = request.transport
        self.kind = kind
        self.category = category
        if kind == "public":
            self.conn_id = str(uuid.uuid4())
        else:
            self.conn_id = f"{uuid.uuid4().hex[:20]}-{next(_numbers):x}"
        self.topics: set[str] = set()
        self.skip: set[str] = set()  # book topics whose next message this client misses
        self.silent = False
        self.closed_as_slow = False
        self.delay = 0.0  # seconds added to replies (fault)
        self.outbox: asyncio.Queue[str] = asyncio.Queue(settings.max_pending)
        self.pending_bytes = 0
        self.frames_sent = 0
        self.requests_read = 0  # frames the client sent that were read (answered or not)
        self._writer: asyncio.Task[None] | None = None
        self._delayed: set[asyncio.Task[None]] = set()
        self._held: deque[tuple[float, RequestHandler, str | bytes, bool]] = deque()
        self._releaser: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        timeout = self.settings.write_timeout
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
            while True:
                text = await self.outbox.get()
                self.pending_bytes -= len(text)
                try:
                    async with asyncio.timeout(timeout):
                        await self.ws.send_str(text)
                except TimeoutError:
                    self._drop_slow(f"a frame took over {timeout:g} s to go out (the client "
                                    "stopped reading)")
                    return
                self.frames_sent += 1

    def _drop_slow(self, why: str) -> None:
        if not self.closed_as_slow:
            self.closed_as_slow = True
            self.errors.note(self.kind, f"does not keep up, disconnected: {why}", self.conn_id,
                             logging.WARNING)
            self.abort()

    def send(self, message: str | dict[str, Any]) -> None:
        """Queue a frame (dropped while silent); a full outbox cuts the client off."""
        if self.silent or self.closed_as_slow:
            return
        text = message if isinstance(message, str) else encode(message).decode()
        s = self.settings
        if self.pending_bytes + len(text) > s.max_pending_bytes:
            self._drop_slow(f"over {s.max_pending_bytes} bytes waiting to be sent")
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self._drop_slow(f"{s.max_pending} frames waiting to be sent")
            return
        self.pending_bytes += len(text)

    def reply(self, message: str | dict[str, Any], delay: float = 0.0) -> None:
        """An answer to the client's request, after the configured delay (fault)."""
        wait = delay + self.delay
        if wait <= 0:
            self.send(message)
            return

        async def later() -> None:
            await asyncio.sleep(wait)
            self.send(message)

        task = asyncio.get_running_loop().create_task(later())
        self._delayed.add(task)
        task.add_done_callback(self._delayed.discard)

    async def read_requests(self, handle: RequestHandler, subscribe_delay: float = 0.0,
                            delay: float = 0.0) -> None:
        """Hand each frame the client sends (text or binary) to ``handle`` until it
        leaves. A subscription waits ``subscribe_delay`` (a round trip to Bybit: pybit
        registers a subscription only after sending it); later requests wait behind it.
        Every frame waits ``delay`` more (the trade socket's ``order_latency``)."""
        async for msg in self.ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                self.requests_read += 1
                if not self.silent:
                    data = msg.data
                    binary = msg.type == WSMsgType.BINARY
                    marker = _SUBSCRIBE if isinstance(data, str) else _SUBSCRIBE_BYTES
                    wait = (subscribe_delay if subscribe_delay and not binary
                            and marker in data else 0.0)
                    self.handle_in_order(handle, data, binary, wait + delay)
            elif msg.type == WSMsgType.ERROR:
                self.errors.note(self.kind, f"socket closed: {self.ws.exception()}",
                                 self.conn_id)
                break

    def handle_in_order(self, handle: RequestHandler, data: str | bytes, binary: bool,
                        delay: float) -> None:
        """Handle the client's frame ``data`` after ``delay`` seconds, and every later
        frame after it: the requests of one socket are answered in the order sent."""
        if delay <= 0 and not self._held:
            handle(self, data, binary)
            return
        loop = asyncio.get_running_loop()
        self._held.append((loop.time() + delay, handle, data, binary))
        if self._releaser is None:
            self._releaser = task = loop.create_task(self._release())
            self._delayed.add(task)
            task.add_done_callback(self._delayed.discard)

    async def _release(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._held:
                due, handle, data, binary = self._held[0]
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._held.popleft()
                if not self.silent:
                    handle(self, data, binary)
        finally:
            self._releaser = None

    @property
    def pending(self) -> int:
        """Requests held back and answers not yet queued (a delay fault, subscribe_delay)."""
        return len(self._delayed)

    def abort(self) -> None:
        """Cut the connection without a close frame."""
        if self.transport is not None:
            self.transport.abort()

    async def close(self) -> None:
        for task in list(self._delayed):
            task.cancel()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
