"""One client WebSocket: a bounded outbox, its subscriptions and its fault switches.

Pushes never wait on a slow client: they go into a bounded queue that a writer task
drains. A client that lets ``max_pending`` frames pile up is cut off, as Bybit does.
Faults act here: a *silent* connection stays open but sends nothing (no data, no pongs);
``abort`` cuts the TCP connection without a close frame (a network failure); replies to
requests can be delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from hayate_paper.bybit_server.wire import encode

__all__ = ["Connection"]

log = logging.getLogger("hayate_paper.bybit_server.connection")

_numbers = itertools.count(1)
_SUBSCRIBE = '"subscribe"'  # in a subscribe request (not in "unsubscribe")


class Connection:
    """A client socket of kind ``public``, ``private`` or ``trade``."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, kind: str,
                 max_pending: int, category: str = "") -> None:
        self.ws = ws
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
        self.outbox: asyncio.Queue[str] = asyncio.Queue(max_pending)
        self.frames_sent = 0
        self.requests_read = 0  # frames the client sent that were read (answered or not)
        self._writer: asyncio.Task[None] | None = None
        self._delayed: set[asyncio.Task[None]] = set()
        self._held: deque[tuple[float, Callable[[Any, str], None], str]] = deque()
        self._releaser: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
            while True:
                text = await self.outbox.get()
                await self.ws.send_str(text)
                self.frames_sent += 1

    def send(self, message: str | dict[str, Any]) -> None:
        """Queue a frame (dropped while silent); a full outbox cuts the client off."""
        if self.silent:
            return
        text = message if isinstance(message, str) else encode(message).decode()
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            if not self.closed_as_slow:
                self.closed_as_slow = True
                log.warning("%s connection %s does not keep up; dropping it", self.kind,
                            self.conn_id)
                self.abort()

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

    async def read_requests(self, handle: Callable[[Any, str], None],
                            subscribe_delay: float = 0.0) -> None:
        """Hand each text frame the client sends to ``handle`` until it leaves. A
        subscription waits ``subscribe_delay`` (a round trip to Bybit: pybit registers a
        subscription only after sending it); later requests wait behind it."""
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                self.requests_read += 1
                if not self.silent:
                    raw = msg.data
                    wait = subscribe_delay if subscribe_delay and _SUBSCRIBE in raw else 0.0
                    self.handle_in_order(handle, raw, wait)
            elif msg.type == WSMsgType.ERROR:
                break

    def handle_in_order(self, handle: Callable[[Any, str], None], raw: str,
                        delay: float) -> None:
        """Handle the client's request ``raw`` after ``delay`` seconds, and every later
        request after it: the requests of one socket are answered in the order sent."""
        if delay <= 0 and not self._held:
            handle(self, raw)
            return
        loop = asyncio.get_running_loop()
        self._held.append((loop.time() + delay, handle, raw))
        if self._releaser is None:
            self._releaser = task = loop.create_task(self._release())
            self._delayed.add(task)
            task.add_done_callback(self._delayed.discard)

    async def _release(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._held:
                due, handle, raw = self._held[0]
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._held.popleft()
                if not self.silent:
                    handle(self, raw)
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
