"""One private-stream connection's life: authenticate, subscribe, catch up, decode.

:class:`PrivateSession` is the handler a :class:`~hayate.transport.ReconnectingWebSocket`
calls. On every (re)connection it sends ``auth``, then one ``subscribe`` for all topics,
then (once the subscription is acknowledged) awaits the caller's catch-up over REST for
everything since the last sign of life, before any later push is handled: pushes that
arrive meanwhile wait in the socket's buffer, so the bot sees history before the present.
A refused login stops the bot with the venue's reason (a wrong key or secret never gets
better by retrying).

A private record the decoder could not read is reported (``PrivateRecordRejected``, in
the same batch as the frame's other events) and then caught up over REST like a
reconnect: everything since the last good frame, followed by ``PrivateResync`` with
``cause="bad_record"``. At most one such catch-up runs per ``bad_record_interval``
seconds; a later bad record waits for the next frame after that (pongs arrive every ping
interval), so a stream of garbage cannot turn into a stream of REST calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import msgspec

from hayate.events import Event
from hayate.transport import ReconnectingWebSocket
from hayate_bybit.auth import ws_auth_args
from hayate_bybit.private.events import PrivateResync
from hayate_bybit.private.records import PrivateDecoder
from hayate_bybit.rest.errors import BybitAuthError, BybitRequestError

__all__ = ["PrivateSession"]

Emit = Callable[[Sequence[Event]], Awaitable[None]]
CatchUp = Callable[[int], Awaitable[list[Event]]]

_encode = msgspec.json.Encoder().encode


class PrivateSession:
    """See the module docstring. ``keys`` is ``(api_key, api_secret)`` as SecretStr."""

    def __init__(
        self,
        *,
        keys: tuple[Any, Any],
        topics: Sequence[str],
        decoder: PrivateDecoder,
        emit: Emit,
        catch_up: CatchUp,
        now_ms: Callable[[], int],
        local_ns: Callable[[], int],
        start_ms: int,
        margin_ms: int,
        log: logging.Logger,
        count: Callable[..., None],
        auth_ttl_ms: int = 5000,
        bad_record_interval: float = 5.0,
    ) -> None:
        self.keys = keys
        self.topics = list(topics)
        self.decoder = decoder
        self.emit = emit
        self.catch_up = catch_up
        self.now_ms = now_ms
        self.local_ns = local_ns  # the bot's clock: receive time of the notices made here
        self.margin_ms = margin_ms
        self.log = log
        self.count = count
        self.auth_ttl_ms = auth_ttl_ms
        self.ready = anyio.Event()
        self.ws: ReconnectingWebSocket | None = None
        self.last_alive_ms = start_ms
        self.connections = 0
        self.catch_ups = 0
        self._reqs = 0
        self._phase = "idle"  # idle -> auth -> subscribe -> live
        self._since = start_ms - margin_ms
        self._control: list[Any] = []
        self.bad_record_interval_ms = int(bad_record_interval * 1000)
        self.bad_record_catch_ups = 0
        self._bad_since: int | None = None  # catch-up start for the pending bad records
        self._last_bad_catch_up_ms: int | None = None
        decoder.on_control = self._control.append

    def _req_id(self, what: str) -> str:
        self._reqs += 1
        return f"{what}-{self._reqs}"

    # -- WebSocketHandler -------------------------------------------------------------------------
    async def on_connect(self, ws: ReconnectingWebSocket) -> None:
        self.ws = ws
        self.connections += 1
        # Fixed now, before this connection's own frames count as signs of life.
        self._since = self.last_alive_ms - self.margin_ms
        self._phase = "auth"
        self._control.clear()
        key, secret = self.keys
        expires = self.now_ms() + self.auth_ttl_ms
        await ws.send(_encode({"req_id": self._req_id("auth"), "op": "auth",
                               "args": ws_auth_args(key.get_secret_value(), secret, expires)}
                              ).decode())

    async def on_message(self, message: str | bytes, recv_ns: int) -> None:
        events = self.decoder.feed(message, recv_ns)
        if self._control:
            await self._on_control()
        if events:
            await self.emit(events)
        if self.decoder.needs_resync:
            self.decoder.needs_resync = False
            if self._bad_since is None:  # from before this frame: it may hold the lost change
                self._bad_since = self.last_alive_ms - self.margin_ms
        if self._bad_since is not None and self._phase == "live":
            await self._catch_up_bad_records()
        self.last_alive_ms = self.now_ms()

    async def on_disconnect(self, reason: str) -> None:
        self._phase = "idle"
        self.count("private_disconnects")
        self.log.warning("private stream lost (%s): will catch up from %d ms on", reason,
                         self.last_alive_ms - self.margin_ms)

    # -- control replies ---------------------------------------------------------------------------
    async def _on_control(self) -> None:
        replies = list(self._control)
        self._control.clear()
        for msg in replies:
            op = msg.op
            if op == "pong" or msg.ret_msg == "pong":
                continue
            if op == "auth" and self._phase == "auth":
                if not msg.success:
                    raise BybitAuthError(
                        f"Bybit refused the private-stream login: {msg.ret_msg or 'no reason'} "
                        "(check the API key and secret, and that they belong to this "
                        "environment)", path="/v5/private")
                self._phase = "subscribe"
                assert self.ws is not None
                await self.ws.send(_encode({"req_id": self._req_id("sub"), "op": "subscribe",
                                            "args": self.topics}).decode())
            elif op == "subscribe" and self._phase == "subscribe":
                if not msg.success:
                    raise BybitRequestError(f"Bybit refused the private subscription "
                                            f"{self.topics}: {msg.ret_msg}", path="/v5/private")
                await self._resync()

    async def _catch_up_bad_records(self) -> None:
        """Read over REST what a rejected record may have said (module docstring)."""
        now = self.now_ms()
        last = self._last_bad_catch_up_ms
        if last is not None and now - last < self.bad_record_interval_ms:
            return  # asked again on a later frame
        since = self._bad_since
        assert since is not None
        self._bad_since = None
        self._last_bad_catch_up_ms = now
        self.bad_record_catch_ups += 1
        self.count("private_bad_record_catch_ups")
        self.log.warning("a private record was rejected: catching up over REST from %d ms",
                         since)
        events = await self.catch_up(since)
        # What the catch-up itself rejected is reported, but asks for no further catch-up.
        self.decoder.needs_resync = False
        events.append(PrivateResync(ts=self.now_ms() * 1_000_000, recv_ts=self.local_ns(),
                                    since_ms=since, reconnect=True, cause="bad_record"))
        await self.emit(events)

    async def _resync(self) -> None:
        since = self._since
        reconnect = self.catch_ups > 0
        events = await self.catch_up(since)
        self.decoder.needs_resync = False  # this catch-up is the one a bad record asks for
        self._bad_since = None
        self.catch_ups += 1
        self._phase = "live"
        now = self.now_ms()
        events.append(PrivateResync(ts=now * 1_000_000, recv_ts=self.local_ns(), since_ms=since,
                                    reconnect=reconnect,
                                    cause="reconnect" if reconnect else "subscribe"))
        await self.emit(events)
        if reconnect:
            self.count("private_resyncs")
            self.log.info("private stream resubscribed; caught up %d event(s) since %d",
                          len(events) - 1, since)
        self.ready.set()
