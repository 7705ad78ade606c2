"""One public connection's life: subscribe, decode, resubscribe, invalidate on loss.

:class:`PublicSession` is the handler a :class:`~hayate.transport.ReconnectingWebSocket`
calls. The live collector (``bybit.public``) and ``hayate record`` both use it, so a
recording is made by exactly the code that trades: the same decoder asks for the same
fresh snapshots after a gap, and the file holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from hayate.clock import Clock
from hayate.events import Event
from hayate.exceptions import ProtocolError
from hayate.transport import ReconnectingWebSocket
from hayate_bybit.config import subscribe_batch_size
from hayate_bybit.schemas.public import ControlMessage
from hayate_bybit.ws.decoder import PublicDecoder
from hayate_bybit.ws.topics import subscribe_requests

__all__ = ["PublicSession", "SubscribeError"]

Emit = Callable[[Sequence[Event]], Any]


class SubscribeError(ProtocolError):
    """Bybit refused a subscription on the first connection: almost always a wrong symbol
    or depth in the config, so the bot stops instead of waiting forever."""


class PublicSession:
    """Subscriptions and decoding for one public connection (a WebSocketHandler).

    ``on_frame(frame, recv_ns)`` sees every raw frame first (the recorder writes it);
    ``on_link(kind, detail, now)`` hears ``connected`` / ``disconnected`` / ``sent``.
    """

    def __init__(
        self,
        *,
        category: str,
        topics: Sequence[str],
        decoder: PublicDecoder,
        emit: Emit,
        clock: Clock,
        log: logging.Logger,
        count: Callable[..., None] | None = None,
        resubscribe_timeout: float = 10.0,
        on_frame: Callable[[str | bytes, int], None] | None = None,
        on_link: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.category = category
        self.topics = list(topics)
        self.decoder = decoder
        self.emit = emit
        self.clock = clock
        self.log = log
        self.count = count or (lambda name, n=1: None)
        self.on_frame = on_frame
        self.on_link = on_link
        self.ready = anyio.Event()  # set once: subscribed and every book snapshot applied
        self.ws: ReconnectingWebSocket | None = None
        self._pending: dict[str, list[str]] = {}  # req_id -> topics awaiting an ack
        self._refused: list[str] = []
        self._sessions = 0
        self.resubscribes = 0
        self.resubscribe_timeout_ns = int(resubscribe_timeout * 1e9)
        self._awaiting: dict[str, int] = {}  # topic -> monotonic deadline for its snapshot
        decoder.on_control = self._control

    # -- WebSocketHandler -----------------------------------------------------------------------
    async def on_connect(self, ws: ReconnectingWebSocket) -> None:
        self.ws = ws
        self._sessions += 1
        self._pending.clear()
        self._awaiting.clear()
        if self.on_link is not None:
            self.on_link("connected", ws.url, self.clock.now())
        await self._send_op("subscribe", self.topics)

    async def on_message(self, message: str | bytes, recv_ns: int) -> None:
        if self.on_frame is not None:
            self.on_frame(message, recv_ns)
        events = self.decoder.feed(message, recv_ns)
        if self._refused:
            self._on_refused()
        if self._awaiting:
            self._check_awaiting()
        if self.decoder.resubscribe:
            await self._resubscribe()
        if events:
            await self.emit(events)
        if not self.ready.is_set() and not self._pending and self.decoder.ready(self.topics):
            self.ready.set()

    async def on_disconnect(self, reason: str) -> None:
        now = self.clock.now()
        if self.on_link is not None:
            self.on_link("disconnected", reason, now)
        events = self.decoder.reset(f"connection lost: {reason}", now)
        if events:
            await self.emit(events)

    # -- internals ------------------------------------------------------------------------------
    async def _send_op(self, op: str, topics: Sequence[str]) -> None:
        assert self.ws is not None
        for req_id, chunk, req in subscribe_requests(topics, subscribe_batch_size(self.category),
                                                     op):
            if op == "subscribe":
                self._pending[req_id] = chunk
            await self.ws.send(req)
            if self.on_link is not None:
                self.on_link("sent", req, self.clock.now())

    def _control(self, msg: ControlMessage) -> None:
        if not msg.is_subscribe_ack or msg.op == "unsubscribe":
            return
        # Spot and linear echo our req_id; if an endpoint does not, acks arrive in order.
        key = msg.req_id if msg.req_id in self._pending else next(iter(self._pending), None)
        topics = self._pending.pop(key, []) if key is not None else []
        if msg.success is False:
            self._refused.append(f"{msg.ret_msg or msg.data} (topics: {', '.join(topics)})")

    def _on_refused(self) -> None:
        problems = "; ".join(self._refused)
        self._refused.clear()
        if self._sessions == 1 and not self.ready.is_set():
            raise SubscribeError(f"Bybit refused the subscription: {problems}")
        # Later on, a refusal is the venue's hiccup: count it; the books stay invalid and
        # the next gap check or reconnect asks again.
        self.count("subscribe_refused")
        self.log.error("Bybit refused a subscription: %s", problems)

    def _check_awaiting(self) -> None:
        """A resubscription whose snapshot never came is asked for again."""
        now = self.clock.monotonic()
        books = self.decoder.books
        for topic, deadline in list(self._awaiting.items()):
            seq = books.get(topic)
            if seq is not None and seq.ready:
                del self._awaiting[topic]
            elif now > deadline and topic not in self.decoder.resubscribe:
                self.decoder.resubscribe.append(topic)

    async def _resubscribe(self) -> None:
        topics = list(self.decoder.resubscribe)
        self.decoder.resubscribe.clear()
        deadline = self.clock.monotonic() + self.resubscribe_timeout_ns
        for t in topics:
            self._awaiting[t] = deadline
        self.resubscribes += len(topics)
        self.count("resubscribes", len(topics))
        self.log.warning("asking again for %s (fresh snapshot needed)", ", ".join(topics))
        await self._send_op("unsubscribe", topics)
        await self._send_op("subscribe", topics)
