"""The trade socket (``/v5/trade``): order entry over one authenticated WebSocket.

A request is ``{"reqId", "header": {X-BAPI-TIMESTAMP, X-BAPI-RECV-WINDOW}, "op", "args"}``
and its answer carries the same ``reqId`` with ``retCode``/``retMsg``/``data``/
``retExtInfo`` and the rate-limit headers (protocol notes §4; the field names are camelCase
here, unlike the private stream). The connection's ``auth`` covers every request, so a
request costs one JSON encode and one socket write: the low-latency path.

Every request ends in exactly one outcome handed to ``on_outcome(context, outcome)``: the
answer, or :class:`~hayate_bybit.rest.errors.BybitTimeout` when the connection dropped or
no answer came within ``request_timeout`` (the outcome is then unknown, and the caller
resolves it by querying, never by placing again).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec

from hayate.transport import ReconnectingWebSocket
from hayate_bybit.auth import ws_auth_args
from hayate_bybit.rest.errors import BybitAuthError, BybitTimeout
from hayate_bybit.rest.limiter import RateLimiter

__all__ = ["TradeReply", "TradeSocket", "trade_ping"]

_encode = msgspec.json.Encoder().encode


def trade_ping() -> str:
    return '{"op":"ping"}'


class TradeReply(msgspec.Struct):
    """One answer of the trade socket (also what a REST reply is normalised to)."""

    retCode: int = 0
    retMsg: str = ""
    op: str = ""
    reqId: str = ""
    data: Any = None
    retExtInfo: Any = None
    header: dict[str, str] = {}
    connId: str = ""


_decode = msgspec.json.Decoder(TradeReply).decode

Outcome = Any  # TradeReply | BybitError


class TradeSocket:
    """A :class:`~hayate.transport.WebSocketHandler` for ``/v5/trade``. See module doc."""

    def __init__(
        self,
        *,
        keys: tuple[Any, Any],
        now_ms: Callable[[], int],
        recv_window: int,
        limiter: RateLimiter,
        on_outcome: Callable[[Any, Outcome], Awaitable[None]],
        log: logging.Logger,
        count: Callable[..., None],
        request_timeout: float = 5.0,
        auth_ttl_ms: int = 5000,
    ) -> None:
        self.keys = keys
        self.now_ms = now_ms
        self.window = str(recv_window)
        self._window_part = f'","X-BAPI-RECV-WINDOW":"{recv_window}"}},"op":"'.encode()
        self.limiter = limiter
        self.on_outcome = on_outcome
        self.log = log
        self.count = count
        self.timeout_ns = int(request_timeout * 1e9)
        self.auth_ttl_ms = auth_ttl_ms
        self.ws: ReconnectingWebSocket | None = None
        self.ready = False
        self.authenticated = anyio.Event()
        self._pending: dict[str, tuple[Any, int, str]] = {}  # reqId -> (context, deadline, key)
        self._ids = itertools.count(1)
        self._prefix = f"h{time.time_ns() % 10**9:x}-"
        self.requests = 0
        self.lost = 0
        self.on_wire: Callable[[Any, int], None] | None = None
        """Benchmarks: called with (context, wall ns) right after a request is written."""

    # -- sending -----------------------------------------------------------------------------------
    async def request(self, op: str, body: dict[str, Any], context: Any, key: str) -> bool:
        """Send ``op`` with ``args = [body]`` now if authenticated; False (nothing sent)
        otherwise."""
        ws = self.ws
        if not self.ready or ws is None:
            return False
        req_id = self._prefix + str(next(self._ids))
        # The frame is assembled around the encoded body, and sent as the UTF-8 bytes it
        # already is (a text frame): this is the hot path.
        frame = b'{"reqId":"%b","header":{"X-BAPI-TIMESTAMP":"%d%b%b","args":[%b]}' % (
            req_id.encode(), self.now_ms(), self._window_part, op.encode(), _encode(body))
        self._pending[req_id] = (context, time.monotonic_ns() + self.timeout_ns, key)
        try:
            await ws.send(frame, text=True)
        except Exception as e:  # any send failure (NotConnected, a closed socket...)
            # Whether the bytes left is unknown: the outcome is resolved by a query.
            self._pending.pop(req_id, None)
            self.count("trade_send_failures")
            await self.on_outcome(context, BybitTimeout(f"trade socket send failed: {e}",
                                                        path=op))
            return True
        self.requests += 1
        hook = self.on_wire
        if hook is not None:
            hook(context, time.time_ns())
        return True

    # -- WebSocketHandler --------------------------------------------------------------------------
    async def on_connect(self, ws: ReconnectingWebSocket) -> None:
        self.ws = ws
        key, secret = self.keys
        expires = self.now_ms() + self.auth_ttl_ms
        await ws.send(_encode({"reqId": "auth", "op": "auth",
                               "args": ws_auth_args(key.get_secret_value(), secret, expires)}
                              ).decode())

    async def on_message(self, message: str | bytes, recv_ns: int) -> None:
        try:
            reply = _decode(message)
        except (msgspec.DecodeError, RecursionError):  # msgspec recurses on deep nesting
            self.count("trade_frames_malformed")
            self.log.warning("malformed trade-socket frame skipped: %.200r", message)
            return
        op = reply.op
        if op == "pong":
            return
        if op == "auth":
            if reply.retCode != 0:
                raise BybitAuthError(f"Bybit refused the trade-socket login: {reply.retMsg} "
                                     "(check the API key and secret for this environment)",
                                     code=reply.retCode, path="/v5/trade")
            self.ready = True
            self.authenticated.set()
            self.log.info("trade socket authenticated")
            return
        pending = self._pending.pop(reply.reqId, None)
        if pending is None:
            self.count("trade_replies_unmatched")
            return
        context, _, key = pending
        if reply.header:
            self.limiter.update(key, reply.header)
        await self.on_outcome(context, reply)

    async def on_disconnect(self, reason: str) -> None:
        self.ready = False
        await self._fail_all(f"trade socket lost ({reason}) before the answer")

    async def _fail_all(self, why: str) -> None:
        pending = list(self._pending.values())
        self._pending.clear()
        for context, _, _ in pending:
            self.lost += 1
            await self.on_outcome(context, BybitTimeout(why, path="/v5/trade"))

    async def expire(self) -> None:
        """Background task: requests unanswered for ``request_timeout`` become timeouts."""
        while True:
            await anyio.sleep(min(0.25, self.timeout_ns / 4e9))
            now = time.monotonic_ns()
            late = [rid for rid, (_, deadline, _) in self._pending.items() if deadline < now]
            for rid in late:
                item = self._pending.pop(rid, None)
                if item is not None:
                    self.lost += 1
                    await self.on_outcome(item[0], BybitTimeout(
                        "no answer on the trade socket in time", path="/v5/trade"))
