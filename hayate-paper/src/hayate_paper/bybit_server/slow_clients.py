"""HTTP clients that hold a connection without using it: deadlines, and one log line.

aiohttp waits as long as a client likes for a request's headers, so a client that
connects and then sends its headers a byte at a time (or nothing) would hold a connection
forever. Here every connection must deliver its first request's headers within
``request_timeout`` seconds of connecting; after each reply, it must start its next
request (and read the reply) within ``keepalive_timeout`` seconds, or it is closed. A
request's body must then arrive within ``request_timeout`` (checked where it is read).
While a request is being handled (a WebSocket's whole life included) no deadline runs.

Malformed HTTP (a garbled request line, a header line over 8 KB) is answered ``400`` by
aiohttp itself; :class:`HttpErrorLog` makes its log entry one line with the reason instead
of a traceback, while a genuine failure inside a handler keeps its traceback.

The WebSocket side (a client that stops reading its frames) is in :mod:`.connection`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from hayate_paper.bybit_server.client_errors import ClientErrors

__all__ = ["HttpErrorLog", "RequestDeadlines"]

_ABORT_AFTER = 1.0  # seconds a closing connection may take to flush before it is cut


class RequestDeadlines:
    """The deadlines above, for every connection of one server."""

    def __init__(self, request_timeout: float, keepalive_timeout: float,
                 errors: ClientErrors) -> None:
        self.request_timeout = request_timeout
        self.keepalive_timeout = keepalive_timeout
        self.errors = errors
        self.closed_slow = 0
        self._timers: dict[Any, asyncio.TimerHandle] = {}

    def protocol_factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """Wrap aiohttp's protocol factory: each new connection starts its first deadline."""
        def connection() -> asyncio.Protocol:
            protocol = make()
            self._arm(protocol, self.request_timeout, first=True)
            return protocol

        return connection

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                         ) -> web.StreamResponse:
        """No deadline while a request is handled; the idle one from its reply on."""
        protocol = request.protocol
        self._disarm(protocol)
        try:
            return await handler(request)
        finally:
            self._arm(protocol, self.keepalive_timeout, first=False)

    def _arm(self, protocol: Any, seconds: float, first: bool) -> None:
        self._disarm(protocol)
        loop = asyncio.get_running_loop()
        self._timers[protocol] = loop.call_later(seconds, self._expire, protocol, first)

    def _disarm(self, protocol: Any) -> None:
        timer = self._timers.pop(protocol, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, protocol: Any, first: bool) -> None:
        self._timers.pop(protocol, None)
        transport = getattr(protocol, "transport", None)
        if transport is None or transport.is_closing():
            return
        if first:
            self.closed_slow += 1
            peer = transport.get_extra_info("peername")
            self.errors.note("http", f"no complete request within {self.request_timeout:g} s "
                             "of connecting; connection closed", _peer(peer))
        transport.close()
        asyncio.get_running_loop().call_later(_ABORT_AFTER, transport.abort)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


def _peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")


class HttpErrorLog(logging.LoggerAdapter):
    """aiohttp's per-connection logger for this server: a malformed request (a client
    error) becomes one rate-limited line with the reason; anything else is logged as
    aiohttp logs it, traceback included."""

    def __init__(self, logger: logging.Logger, errors: ClientErrors) -> None:
        super().__init__(logger, {})
        self.errors = errors

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        if isinstance(exc, HttpProcessingError):
            who = str(args[0]) if args else ""
            self.errors.note("http", f"malformed HTTP request (answered {exc.code}): "
                             f"{exc.message or type(exc).__name__}", who)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)
