"""A WebSocket client that reconnects, resubscribes and notices a dead feed.

Feeds die in ways a plain client never sees: the TCP connection stays open while the
server sends nothing, or the venue drops a consumer that fell behind. This client:

- sends an application-level heartbeat every ``ping_interval`` (venues such as Bybit
  expect a JSON ping, on top of the protocol-level ping frames ``websockets`` sends);
- reconnects when nothing at all has arrived for ``silence_timeout`` seconds (time spent
  inside the handler does not count: a slow consumer is not a silent feed);
- waits a capped exponential backoff with jitter between attempts, reset once a
  connection has stayed up for ``stable_after`` seconds;
- calls the handler's ``on_connect`` on every (re)connection, so it subscribes again, and
  ``on_disconnect`` when a connection ends, so it can mark its data untrustworthy.

Exchange-neutral: the handler decides what to subscribe and how to read messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from hayate.clock import Clock, WallClock
from hayate.exceptions import HayateError
from hayate.transport.backoff import Backoff

__all__ = ["NotConnected", "ReconnectingWebSocket", "WebSocketHandler", "first_error"]


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The first real error inside (nested) task-group exception groups.

    A task group reports even a single failure as a group; callers (and users reading the
    error) want the failure itself, e.g. "Bybit refused the subscription", not "unhandled
    errors in a TaskGroup".
    """
    cancelled = anyio.get_cancelled_exc_class()
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_error(exc)
        if not isinstance(exc, cancelled):
            return exc
    return group


class NotConnected(HayateError):
    """A message could not be sent: there is no open connection right now."""


class WebSocketHandler(Protocol):
    """What a :class:`ReconnectingWebSocket` calls. Exceptions other than a closed
    connection propagate and end :meth:`ReconnectingWebSocket.run` (fail loudly)."""

    async def on_connect(self, ws: ReconnectingWebSocket) -> None:
        """A connection is open: (re)subscribe here with ``await ws.send(...)``."""

    async def on_message(self, message: str | bytes, recv_ns: int) -> None:
        """One frame, with the clock's time when it was taken off the socket."""

    async def on_disconnect(self, reason: str) -> None:
        """The connection ended (a reconnect follows after a backoff)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        frame = exc.rcvd or exc.sent
        if frame is None:
            return "connection lost (no close frame)"
        return f"closed with code {frame.code}" + (f" ({frame.reason})" if frame.reason else "")
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ReconnectingWebSocket:
    """Keeps one logical connection to ``url`` alive until cancelled. See the module doc."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        log: logging.Logger | None = None,
        heartbeat: Callable[[], str] | None = None,
        ping_interval: float = 20.0,
        silence_timeout: float = 30.0,
        backoff: Backoff | None = None,
        stable_after: float = 30.0,
        open_timeout: float = 10.0,
        close_timeout: float = 2.0,
        max_size: int | None = 1 << 24,
        max_queue: int = 64,
        protocol_ping: bool = True,
        proxy: str | bool | None = True,
    ) -> None:
        if ping_interval <= 0 or silence_timeout <= 0:
            raise ValueError("ping_interval and silence_timeout must be positive")
        self.url = url
        self.clock = clock or WallClock()
        self.log = log or logging.getLogger("hayate.transport.websocket")
        self.heartbeat = heartbeat
        self.ping_interval = ping_interval
        self.silence_timeout = silence_timeout
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.stable_after = stable_after
        self._connect_kwargs: dict[str, Any] = {
            "open_timeout": open_timeout,
            "close_timeout": close_timeout,
            "max_size": max_size,
            "max_queue": max_queue,
            "compression": None,
            "ping_interval": 20.0 if protocol_ping else None,
            "ping_timeout": 20.0 if protocol_ping else None,
            "proxy": proxy,
        }
        self._ws: ClientConnection | None = None
        self._busy = False
        self._last_rx = 0
        self._silence: str | None = None
        # Figures for summaries and tests.
        self.connects = 0
        self.disconnects = 0
        self.frames = 0
        self.last_reason = ""
        # Times the silence watchdog has looked (busy or not): a test that steps the clock
        # waits for the next look instead of sleeping through a tick.
        self.silence_checks = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def send(self, message: str | bytes, *, text: bool | None = None) -> None:
        """Send on the current connection; :class:`NotConnected` between connections.
        ``text=True`` sends UTF-8 ``bytes`` as a text frame (no decode and re-encode)."""
        ws = self._ws
        if ws is None:
            raise NotConnected(f"not connected to {self.url}")
        await ws.send(message, text=text)

    async def run(self, handler: WebSocketHandler) -> None:
        """Connect, hand frames to ``handler``, reconnect on any failure; until cancelled."""
        clock = self.clock
        while True:
            started = clock.monotonic()
            reason, was_open = await self._connection(handler)
            self.last_reason = reason
            if was_open:
                self.disconnects += 1
                await handler.on_disconnect(reason)
                if clock.monotonic() - started >= self.stable_after * 1e9:
                    self.backoff.reset()
            delay = self.backoff.next()
            self.log.warning("%s: %s; reconnecting in %.2fs", self.url, reason, delay)
            await anyio.sleep(delay)

    async def _connection(self, handler: WebSocketHandler) -> tuple[str, bool]:
        self._silence = None
        try:
            ws = await connect(self.url, **self._connect_kwargs)
        except InvalidURI:
            raise
        except (OSError, TimeoutError, WebSocketException) as e:
            return _describe(e), False
        self._ws = ws
        self.connects += 1
        self._busy = False
        self._last_rx = self.clock.monotonic()
        self.log.info("connected to %s", self.url)
        try:
            await handler.on_connect(self)
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._watchdog, tg.cancel_scope)
                    if self.heartbeat is not None:
                        tg.start_soon(self._heartbeat, ws)
                    reason = await self._receive(ws, handler)
                    tg.cancel_scope.cancel()
            except BaseExceptionGroup as group:
                raise first_error(group) from None
            return self._silence or reason, True
        except ConnectionClosed as e:
            return _describe(e), True
        except (OSError, TimeoutError, WebSocketException) as e:
            return _describe(e), True
        finally:
            self._ws = None
            await self._close(ws)

    async def _close(self, ws: ClientConnection) -> None:
        """Close politely but briefly, even while being cancelled; then drop the socket."""
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(self._connect_kwargs["close_timeout"]):
                await ws.close()
            ws.transport.abort()  # no-op after a clean close; frees the socket otherwise

    async def _receive(self, ws: ClientConnection, handler: WebSocketHandler) -> str:
        clock = self.clock
        on_message = handler.on_message
        try:
            while True:
                message = await ws.recv()
                now = clock.now()
                self.frames += 1
                self._busy = True
                await on_message(message, now)
                self._busy = False
                self._last_rx = clock.monotonic()
        except ConnectionClosed as e:
            return _describe(e)

    async def _watchdog(self, scope: anyio.CancelScope) -> None:
        limit = int(self.silence_timeout * 1e9)
        tick = min(self.silence_timeout / 4, 1.0)
        clock = self.clock
        while True:
            await anyio.sleep(tick)
            self.silence_checks += 1
            if not self._busy and clock.monotonic() - self._last_rx > limit:
                self._silence = f"no message for {self.silence_timeout:g}s"
                scope.cancel()
                return

    async def _heartbeat(self, ws: ClientConnection) -> None:
        assert self.heartbeat is not None
        while True:
            await anyio.sleep(self.ping_interval)
            try:
                await ws.send(self.heartbeat())
            except ConnectionClosed:
                return
