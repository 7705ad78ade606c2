"""``bybit.private``: the account's own orders, fills, positions and balances from Bybit's
private stream, with nothing lost across reconnects.

Authenticates, subscribes to ``order``, ``execution``, ``position`` and ``wallet``, pings
every ``ping_interval`` and reconnects (capped backoff with jitter) when the stream drops
or falls silent. After every (re)subscription it fetches over REST what it may have missed
since its last sign of life (executions, orders, positions, balances); duplicates are
dropped by execution id and order update time, so a catch-up overlapping the stream
counts nothing twice.

Used alone it emits under its own id; a ``bybit.orders`` executor that names it
(``private = "<id>"``) interposes it and re-emits its events as its own, so a strategy's
view hears them without listing the collector.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import anyio
from pydantic import Field, field_validator, model_validator

from hayate.events import Event
from hayate.spec.models import Duration
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate.transport import Backoff, ReconnectingWebSocket, first_error
from hayate.types import Collector, CollectorConfig, Emit
from hayate_bybit.config import AccountSettings, endpoints, load_keys
from hayate_bybit.private.records import PrivateDecoder
from hayate_bybit.private.session import PrivateSession
from hayate_bybit.rest.client import BybitRest

__all__ = ["BybitPrivate", "BybitPrivateConfig"]

Topic = Literal["order", "execution", "position", "wallet"]
_TOPICS: tuple[Topic, ...] = ("order", "execution", "position", "wallet")
_WEEK_MS = 7 * 24 * 3600 * 1000

_ping_ids = iter(range(1, 1 << 62))


def private_ping() -> str:
    return f'{{"req_id":"p{next(_ping_ids)}","op":"ping"}}'


class BybitPrivateConfig(CollectorConfig, AccountSettings):
    private_url: str | None = Field(None, description="Override the private WebSocket URL.")
    category: Literal["linear", "spot", "inverse"] = Field(
        "linear", description="Category of the REST catch-ups (the stream carries all).")
    settle_coin: str = Field("USDT", min_length=1,
                             description="Settle coin of linear/inverse catch-ups.")
    symbols: list[str] = Field(
        default_factory=list,
        description="Symbols whose positions are re-read after a reconnect even when flat "
        "(positions of other symbols are found by settle coin when non-zero).")
    topics: list[Topic] = Field(
        default_factory=lambda: list(_TOPICS), min_length=1,
        description="Private topics (all-in-one form).")
    ping_interval: Duration = Field(10.0, gt=0, description="Seconds between JSON pings.")
    silence_timeout: Duration = Field(
        30.0, gt=0, description="Reconnect when nothing (not even a pong) arrived this long.")
    reconnect_min: Duration = Field(0.5, gt=0, description="First reconnect delay (seconds).")
    reconnect_max: Duration = Field(30.0, gt=0, description="Longest reconnect delay (seconds).")
    catch_up_margin: Duration = Field(
        5.0, ge=0, description="Seconds before the last sign of life a catch-up starts from.")
    overflow: Literal["block"] = Field(
        "block", description="Private events are never dropped or merged.")

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        out = [s.strip().upper() for s in v]
        if not all(out):
            raise ValueError("a symbol cannot be empty")
        return out

    @model_validator(mode="after")
    def _check(self) -> BybitPrivateConfig:
        if self.silence_timeout <= self.ping_interval:
            raise ValueError("silence_timeout must be longer than ping_interval (a quiet "
                             "account sends nothing but pongs)")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be >= reconnect_min")
        if self.environment == "local" and not self.private_url and not self.rest_url:
            raise ValueError("environment 'local' needs rest_url")
        return self

    @property
    def ws_url(self) -> str:
        if self.private_url:
            return self.private_url
        if self.environment == "local":
            return self.ws_base() + "/v5/private"
        return endpoints(self.environment).private


class BybitPrivate(Collector):
    """Bybit v5 private stream: own orders, fills, positions, balances; loses nothing."""

    kind: ClassVar[str] = "bybit.private"
    Config: ClassVar[type[BybitPrivateConfig]] = BybitPrivateConfig

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        """Orders, fills, positions and balances: no market data."""
        return SourcePreview.no_market_data()

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.rest: BybitRest | None = None
        self.keys: tuple[Any, Any] | None = None
        self.session: PrivateSession | None = None
        self.socket: ReconnectingWebSocket | None = None
        self.decoder = PrivateDecoder(count=ctx.count, log=self.log, settle_of=self._settle_of)
        self._position_symbols: set[str] = set(config.symbols)
        self._start_ms = 0

    def _settle_of(self, symbol: str) -> str:
        inst = self.ctx.instruments.get(symbol)
        if inst is not None:
            return str(inst.settle or inst.quote)
        return self.config.settle_coin if self.config.category != "spot" else ""

    async def setup(self) -> None:
        """Check the keys with one signed request (a wrong secret stops the bot here)."""
        c = self.config
        self.keys = load_keys(c, f"collector {self.id!r}")
        self.rest = BybitRest(c.rest_base, *self.keys, recv_window=c.recv_window,
                              clock=self.ctx.clock, log=self.log)
        await self.rest.sync_time()
        await self.rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        self._start_ms = self.rest.now_ms()

    async def aclose(self) -> None:
        if self.rest is not None:
            await self.rest.aclose()

    async def catch_up(self, since_ms: int) -> list[Event]:
        """Everything the stream may have missed since ``since_ms``, oldest first."""
        rest = self.rest
        assert rest is not None
        c = self.config
        dec = self.decoder
        now = self.ctx.clock.now()
        since_ms = max(since_ms, rest.now_ms() - _WEEK_MS + 60_000)  # Bybit's 7-day window
        cat = {"category": c.category}
        scope = dict(cat)
        if c.category != "spot":
            scope["settleCoin"] = c.settle_coin
        events: list[Event] = []
        if "execution" in c.topics:
            items = await rest.get_all("/v5/execution/list",
                                       {**cat, "startTime": since_ms, "limit": 100})
            events.extend(dec.executions_from(reversed(items), now))  # newest first -> oldest
        if "order" in c.topics:
            history = await rest.get_all("/v5/order/history",
                                         {**cat, "startTime": since_ms, "limit": 50})
            open_ = await rest.get_all("/v5/order/realtime", {**scope, "limit": 50})
            events.extend(dec.orders_from(reversed(history), now))
            events.extend(dec.orders_from(reversed(open_), now))
        if "position" in c.topics and c.category != "spot":
            rows = await rest.get_all("/v5/position/list", {**scope, "limit": 200})
            found = {r.get("symbol") for r in rows if isinstance(r, dict)}
            for sym in sorted(self._position_symbols - found):
                rows += await rest.get_all("/v5/position/list", {**cat, "symbol": sym})
            positions = dec.positions_from(rows, now)
            self._position_symbols.update(p.symbol for p in positions if p.size)
            events.extend(positions)
        if "wallet" in c.topics:
            reply = await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
            res = reply.result if isinstance(reply.result, dict) else {}
            events.extend(dec.wallet_from(res.get("list") or [], now))
        events.sort(key=lambda e: e.ts)
        events.extend(dec.take_rejected())  # records of the REST lists that were skipped
        return events

    def make_session(self, emit: Emit) -> PrivateSession:
        assert self.keys is not None and self.rest is not None
        c = self.config
        rest = self.rest

        async def tracked_emit(events: Any) -> None:
            for ev in events:
                if getattr(ev, "size", None) and hasattr(ev, "entry_price"):
                    self._position_symbols.add(ev.symbol)
            await emit(events)

        return PrivateSession(
            keys=self.keys, topics=c.topics, decoder=self.decoder, emit=tracked_emit,
            catch_up=self.catch_up, now_ms=rest.now_ms, local_ns=self.ctx.clock.now,
            start_ms=self._start_ms,
            margin_ms=int(c.catch_up_margin * 1000), log=self.log, count=self.ctx.count)

    async def run(self, emit: Emit) -> None:
        c = self.config
        session = self.session = self.make_session(emit)
        ws = self.socket = ReconnectingWebSocket(
            c.ws_url, clock=self.ctx.clock, log=self.log, heartbeat=private_ping,
            ping_interval=c.ping_interval, silence_timeout=c.silence_timeout,
            backoff=Backoff(c.reconnect_min, c.reconnect_max, seed=self.ctx.seed))
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(ws.run, session)
                await session.ready.wait()
                self.log.info("private stream authenticated and subscribed (%s)",
                              ", ".join(c.topics))
                self.ctx.set_ready()
        except BaseExceptionGroup as group:
            raise first_error(group) from None

    def summary(self) -> dict[str, Any]:
        if self.socket is None or self.session is None:
            return {}
        return {"private_connects": self.socket.connects,
                "private_disconnects": self.socket.disconnects,
                "private_catch_ups": self.session.catch_ups,
                "private_bad_record_catch_ups": self.session.bad_record_catch_ups,
                # frames and records rejected, by reason
                "private_malformed": dict(sorted(self.decoder.malformed.items()))}
